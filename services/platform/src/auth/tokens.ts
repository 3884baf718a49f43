import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { errors, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import { parseRole, roleName } from "./api-keys.js";
import type { Principal } from "./principal.js";
import type { TokenKey, TokenKeySet } from "./token-key-set.js";

/**
 * The only roles a token may carry. Seller and operator authority comes from API keys alone, which are stored,
 * listed and revocable; a token cannot be revoked, so it must never grant them.
 */
export const tokenRoles: readonly Role[] = [Role.CUSTOMER, Role.SERVICE];

/** Why a token was refused; `expired` is worth telling the caller (get a new token), the rest are not. */
export type TokenRefusal =
  | "malformed"
  | "unknown-key"
  | "bad-signature"
  | "expired"
  | "bad-claims"
  | "role-not-allowed";

/** The principal a token names, or why it was refused; a refusal is never an exception, so callers cannot miss it. */
export type TokenCheck =
  | { principal: Principal; refused?: undefined }
  | { principal?: undefined; refused: TokenRefusal };

/** Mints bearer tokens; services that sign customers in (orders) use it through `platform.tokens`. */
export interface TokenIssuer {
  /** A signed JWT for a customer or service principal; any other role throws. Default lifetime 1 h. */
  issue(principal: Principal, options?: { ttlSeconds?: number }): Promise<string>;
}

/** Checks bearer tokens; the auth interceptor and the gateway use it through `AuthOptions.tokens`. */
export interface TokenVerifier {
  verify(token: string): Promise<TokenCheck>;
}

/** A deployment's tokens: the issuer and the verifier built over one key set. */
export interface Tokens extends TokenIssuer, TokenVerifier {}

/** What makes one deployment's tokens its own, and the clock they are checked against. */
export interface TokenOptions {
  /** `iss` of issued tokens, and the only one accepted. Default "shop". */
  issuer?: string;
  /** `aud` of issued tokens, and the only one accepted. Default "shop". */
  audience?: string;
  /** Longest lifetime: issuing more throws, and a token older than this (by `iat`) is refused. Default 24 h. */
  maxTtlSeconds?: number;
  /** Milliseconds since the epoch; tests move it. Default `Date.now`. */
  now?: () => number;
}

const algorithm = "HS256";
/** Tolerated clock difference between the service that signed and the one that verifies. */
const clockToleranceSeconds = 5;
/** A JWT of ours is a few hundred bytes; anything far longer is refused before it is parsed. */
const maxTokenLength = 4096;

/** Thrown by the key lookup when a token's `kid` names no accepted key (a retired key, or none at all). */
class UnknownKeyError extends Error {
  override name = "UnknownKeyError";
}

/** jose's error codes (checked by code, not class, like every error guard here), and ours. */
function refusalOf(err: unknown): TokenRefusal {
  const { code, name } = (err ?? {}) as { code?: string; name?: string };
  if (code === errors.JWTExpired.code) return "expired";
  if (code === errors.JWSSignatureVerificationFailed.code) return "bad-signature";
  if (code === errors.JWTClaimValidationFailed.code) return "bad-claims";
  if (name === "UnknownKeyError") return "unknown-key";
  return "malformed";
}

/**
 * Standard JWTs (HS256, `kid` header; `iss`, `aud`, `sub`, `iat`, `exp` and a `role` claim) signed with the key set's
 * signing key and checked against every accepted key, with `jose`. Short-lived by design: there is no revocation list.
 */
export function createTokens(keys: TokenKeySet, options: TokenOptions = {}): Tokens {
  const issuer = options.issuer ?? "shop";
  const audience = options.audience ?? "shop";
  const maxTtlSeconds = options.maxTtlSeconds ?? 86_400;
  const now = options.now ?? Date.now;
  const cryptoKeys = new Map<string, Promise<CryptoKey>>();
  // Imported once per key rather than by jose on every call.
  const cryptoKeyOf = (key: TokenKey): Promise<CryptoKey> => {
    let imported = cryptoKeys.get(key.kid);
    if (imported === undefined) {
      imported = crypto.subtle.importKey("raw", key.secret, { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
        "verify",
      ]);
      cryptoKeys.set(key.kid, imported);
    }
    return imported;
  };
  const accepted = new Map(keys.accepted.map((key) => [key.kid, key]));
  const keyFor = (header: JWTHeaderParameters) => {
    const key = header.kid === undefined ? undefined : accepted.get(header.kid);
    if (key === undefined) throw new UnknownKeyError("the token names no accepted key");
    return cryptoKeyOf(key);
  };

  return {
    async issue(principal, issueOptions = {}) {
      const ttlSeconds = issueOptions.ttlSeconds ?? 3600;
      if (!tokenRoles.includes(principal.role)) {
        throw new Error(
          `a token cannot carry the ${roleName(principal.role)} role: only customer and service; sellers and operators use API keys`,
        );
      }
      if (principal.subject === "") throw new Error("a token needs a subject");
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > maxTtlSeconds) {
        throw new RangeError(`a token lives between 1 and ${maxTtlSeconds} seconds, not ${ttlSeconds}`);
      }
      const issuedAt = Math.floor(now() / 1000);
      return (
        new SignJWT({ role: roleName(principal.role) })
          .setProtectedHeader({ alg: algorithm, kid: keys.signing.kid, typ: "JWT" })
          .setIssuer(issuer)
          .setAudience(audience)
          .setSubject(principal.subject)
          // A token id: every token is distinct, also two issued for one subject in the same second.
          .setJti(crypto.randomUUID())
          .setIssuedAt(issuedAt)
          .setExpirationTime(issuedAt + ttlSeconds)
          .sign(await cryptoKeyOf(keys.signing))
      );
    },

    async verify(token) {
      if (token.length > maxTokenLength) return { refused: "malformed" };
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, keyFor, {
          algorithms: [algorithm],
          typ: "JWT",
          issuer,
          audience,
          requiredClaims: ["sub", "iat", "exp"],
          maxTokenAge: maxTtlSeconds,
          clockTolerance: clockToleranceSeconds,
          currentDate: new Date(now()),
        }));
      } catch (err) {
        return { refused: refusalOf(err) };
      }
      const role = typeof payload.role === "string" ? parseRole(payload.role) : undefined;
      if (role === undefined || !tokenRoles.includes(role)) return { refused: "role-not-allowed" };
      if (typeof payload.sub !== "string" || payload.sub === "") return { refused: "bad-claims" };
      return { principal: { role, subject: payload.sub } };
    },
  };
}

/** API keys and tokens share the bearer header; keys are told apart by their `sk_` prefix. */
export function isApiKey(credential: string): boolean {
  return credential.startsWith("sk_");
}
