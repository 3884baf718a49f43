import { createHmac, timingSafeEqual } from "node:crypto";
import type { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import type { Principal } from "./principal.js";

/**
 * Bearer tokens for customers and service-to-service calls: `v1.<payload>.<signature>`, HMAC-SHA256 over the payload
 * with the deployment's shared secret. Short-lived by design, so there is no revocation list.
 */
interface TokenPayload {
  sub: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

function sign(payload: string, secret: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function issueToken(principal: Principal, secret: string, ttlSeconds = 3600, now = Date.now()): string {
  const payload: TokenPayload = {
    sub: principal.subject,
    role: principal.role,
    exp: Math.floor(now / 1000) + ttlSeconds,
  };
  const encoded = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `v1.${encoded}.${sign(encoded, secret)}`;
}

/** The principal a token names, or undefined when it is malformed, forged or expired. */
export function verifyToken(token: string, secret: string, now = Date.now()): Principal | undefined {
  const [version, encoded, signature] = token.split(".");
  if (version !== "v1" || !encoded || !signature) return undefined;
  const expected = Buffer.from(sign(encoded, secret));
  const actual = Buffer.from(signature);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(encoded, "base64url").toString()) as TokenPayload;
    if (typeof payload.exp !== "number" || payload.exp * 1000 < now) return undefined;
    return { subject: String(payload.sub), role: payload.role };
  } catch {
    return undefined;
  }
}

export function isApiKey(credential: string): boolean {
  return credential.startsWith("sk_");
}
