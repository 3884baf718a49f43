import type { Interceptor } from "@connectrpc/connect";
import { type AuthOptions, authorizeCall } from "../auth/authorize.js";
import { principalKey } from "../auth/principal.js";

export type { AuthOptions };

/** Enforces each RPC's access rule before validation and the handler; handlers read the caller from `principalKey`. */
export function authInterceptor(options: AuthOptions): Interceptor {
  return (next) => async (req) => {
    req.contextValues.set(principalKey, await authorizeCall(req.method, req.header, options));
    return next(req);
  };
}
