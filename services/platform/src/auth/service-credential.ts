import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

/**
 * Sends a service's own API key (role service) on every outgoing call, so the callee sees that service and its role,
 * never a user's credential passed along.
 */
export function serviceCredential(key: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
}

/**
 * A Connect transport to another service (gRPC over HTTP/2, one multiplexed connection) that authenticates as this
 * service: `createClient(InventoryService, serviceTransport(key, url))`.
 */
export function serviceTransport(key: string, baseUrl: string, interceptors: Interceptor[] = []): Transport {
  return createGrpcTransport({ baseUrl, interceptors: [...interceptors, serviceCredential(key)] });
}
