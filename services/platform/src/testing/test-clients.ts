import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

export type ProtocolName = "connect-json" | "connect-binary" | "grpc" | "grpc-web";

export const allProtocols: ProtocolName[] = ["connect-json", "connect-binary", "grpc", "grpc-web"];

/** A transport for one of the four ways a service can be called. */
export function transportFor(protocol: ProtocolName, baseUrl: string, interceptors: Interceptor[] = []): Transport {
  switch (protocol) {
    case "connect-json":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors });
    case "connect-binary":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors });
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
  }
}

/** Adds `Authorization: Bearer <credential>` to every call. */
export function bearer(credential: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${credential}`);
    return next(req);
  };
}

/** A typed client of `service` over `protocol`, optionally authenticated. */
export function clientFor<S extends DescService>(
  service: S,
  baseUrl: string,
  options: { protocol?: ProtocolName; credential?: string } = {},
): Client<S> {
  const interceptors = options.credential ? [bearer(options.credential)] : [];
  return createClient(service, transportFor(options.protocol ?? "connect-binary", baseUrl, interceptors));
}
