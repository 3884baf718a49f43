import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { allowedRoles } from "../contract.js";
import type { ApiKeyRegistry } from "./api-keys.js";
import { anonymous, type Principal } from "./principal.js";
import { isApiKey, verifyToken } from "./tokens.js";

export interface AuthOptions {
  apiKeys: ApiKeyRegistry;
  tokenSecret: string;
  /** Services outside the contract that anyone may call (grpc.health.v1.Health for probes). */
  publicServices?: string[];
}

/** The credential of a request: `Authorization: Bearer …` (API key or token) or `x-api-key`. */
export function credentialOf(header: Headers): string | undefined {
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
 * Decides whether the caller may call `method`, from the contract's `(shop.common.v1.access)` option. No or bad
 * credentials → Unauthenticated; valid credentials of a role the method does not allow → PermissionDenied.
 * Shared by every service's auth interceptor and by the gateway, so both refuse the same calls the same way.
 */
export function authorizeCall(method: DescMethod, header: Headers, options: AuthOptions): Principal {
  const allowed = options.publicServices?.includes(method.parent.typeName) ? [Role.PUBLIC] : allowedRoles(method);
  const credential = credentialOf(header);
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
  if (allowed.includes(Role.PUBLIC)) return principal;
  if (allowed.length === 0) throw new ConnectError(`${method.name} has no access rule`, Code.PermissionDenied);
  if (credential === undefined) {
    throw new ConnectError(`${method.name} needs an API key or token: run \`shop login\``, Code.Unauthenticated);
  }
  if (!allowed.includes(principal.role)) {
    throw new ConnectError(`${method.name} is not allowed for this key's role`, Code.PermissionDenied);
  }
  return principal;
}
