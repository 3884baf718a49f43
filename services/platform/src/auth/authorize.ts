import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { allowedRoles } from "../contract.js";
import type { ApiKeyRegistry } from "./api-keys.js";
import { anonymous, type Principal } from "./principal.js";
import { isApiKey, type TokenVerifier } from "./tokens.js";

/** How a server authenticates callers: `platform.auth` for services and the gateway. */
export interface AuthOptions {
  /** API keys (any role); the only source of seller and operator authority. */
  apiKeys: ApiKeyRegistry;
  /** Bearer JWTs of customers and services, checked against the deployment's token keys (SHOP_TOKEN_KEYS). */
  tokens: TokenVerifier;
  /** Services outside the contract that anyone may call (grpc.health.v1.Health for probes). */
  publicServices?: string[];
}

/** The credential of a request: `Authorization: Bearer …` (API key or token) or `x-api-key`. */
export function credentialOf(header: Headers): string | undefined {
  const authorization = header.get("authorization");
  if (authorization?.toLowerCase().startsWith("bearer ")) return authorization.slice(7).trim();
  return header.get("x-api-key")?.trim() || undefined;
}

const notValid = "the API key or token is not valid: run `shop login` with a current key";

async function authenticate(credential: string, options: AuthOptions): Promise<Principal> {
  if (isApiKey(credential)) {
    const record = options.apiKeys.verify(credential);
    if (record === undefined) throw new ConnectError(notValid, Code.Unauthenticated);
    return { role: record.role, subject: record.id };
  }
  const check = await options.tokens.verify(credential);
  if (check.refused === "expired") throw new ConnectError("the token has expired: get a new one", Code.Unauthenticated);
  if (check.principal === undefined) throw new ConnectError(notValid, Code.Unauthenticated);
  return check.principal;
}

/**
 * Decides whether the caller may call `method`, from the contract's `(shop.common.v1.access)` option. No or bad
 * credentials → Unauthenticated; valid credentials of a role the method does not allow → PermissionDenied.
 * Shared by every service's auth interceptor and by the gateway, so both refuse the same calls the same way.
 */
export async function authorizeCall(method: DescMethod, header: Headers, options: AuthOptions): Promise<Principal> {
  const allowed = options.publicServices?.includes(method.parent.typeName) ? [Role.PUBLIC] : allowedRoles(method);
  const credential = credentialOf(header);
  const principal = credential === undefined ? anonymous : await authenticate(credential, options);
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
