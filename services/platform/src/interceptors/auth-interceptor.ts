import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import type { ApiKeyRegistry } from "../auth/api-keys.js";
import { anonymous, type Principal, principalKey } from "../auth/principal.js";
import { isApiKey, verifyToken } from "../auth/tokens.js";
import { allowedRoles } from "../contract.js";

export interface AuthOptions {
  apiKeys: ApiKeyRegistry;
  tokenSecret: string;
  /** Services outside the contract that anyone may call (grpc.health.v1.Health for probes). */
  publicServices?: string[];
}

/** The credential of a request: `Authorization: Bearer …` (API key or token) or `x-api-key`. */
function credentialOf(header: Headers): string | undefined {
  const authorization = header.get("authorization");
  if (authorization?.toLowerCase().startsWith("bearer ")) return authorization.slice(7).trim();
  return header.get("x-api-key")?.trim() || undefined;
}

function authenticate(credential: string, options: AuthOptions): Principal | undefined {
  if (isApiKey(credential)) {
    const record = options.apiKeys.verify(credential);
    return record && { role: record.role, subject: record.id };
  }
  return verifyToken(credential, options.tokenSecret);
}

/**
 * Enforces each RPC's `(shop.common.v1.access)` option. No or bad credentials → Unauthenticated; valid credentials
 * of a role the RPC does not allow → PermissionDenied. Handlers read the caller from `principalKey`.
 */
export function authInterceptor(options: AuthOptions): Interceptor {
  return (next) => async (req) => {
    const allowed = options.publicServices?.includes(req.service.typeName) ? [Role.PUBLIC] : allowedRoles(req.method);
    const credential = credentialOf(req.header);
    let principal = anonymous;
    if (credential !== undefined) {
      const resolved = authenticate(credential, options);
      if (resolved === undefined) {
        throw new ConnectError(
          "the API key or token is not valid: run `shop login` with a current key",
          Code.Unauthenticated,
        );
      }
      principal = resolved;
    }
    if (!allowed.includes(Role.PUBLIC)) {
      if (allowed.length === 0) throw new ConnectError(`${req.method.name} has no access rule`, Code.PermissionDenied);
      if (credential === undefined) {
        throw new ConnectError(
          `${req.method.name} needs an API key or token: run \`shop login\``,
          Code.Unauthenticated,
        );
      }
      if (!allowed.includes(principal.role)) {
        throw new ConnectError(`${req.method.name} is not allowed for this key's role`, Code.PermissionDenied);
      }
    }
    req.contextValues.set(principalKey, principal);
    return next(req);
  };
}
