import { createContextKey } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";

/** Who is calling: resolved once per request by the auth interceptor and read by handlers from the context. */
export interface Principal {
  role: Role;
  /** API key id or token subject; empty for anonymous callers. */
  subject: string;
}

export const anonymous: Principal = { role: Role.PUBLIC, subject: "" };

/** Handlers read the caller with `ctx.values.get(principalKey)`. */
export const principalKey = createContextKey<Principal>(anonymous, { description: "shop principal" });

/** Per-request id for logs and error reports; taken from `x-request-id` when the caller sends one. */
export const requestIdKey = createContextKey<string>("", { description: "shop request id" });
