import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createFailoverTransport } from "../replicas/failover-transport.js";
import { createReplicaRotation } from "../replicas/replica-rotation.js";

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
 * A Connect transport to another service (gRPC over HTTP/2, one multiplexed connection per replica) that
 * authenticates as this service: `createClient(InventoryService, serviceTransport(key, url))`. Several URLs are
 * replicas of the service, called in turn, past one that refuses the connection; a call the callee broke off fails as
 * Unavailable (see `createFailoverTransport`).
 */
export function serviceTransport(
  key: string,
  baseUrl: string | readonly string[],
  interceptors: Interceptor[] = [],
): Transport {
  const transportTo = (url: string) =>
    createGrpcTransport({ baseUrl: url, interceptors: [...interceptors, serviceCredential(key)] });
  return createFailoverTransport(createReplicaRotation(typeof baseUrl === "string" ? [baseUrl] : baseUrl), transportTo);
}
