import { createHmac, timingSafeEqual } from "node:crypto";
import type { TokenKeySet } from "@shop/platform";

/**
 * Order access tokens: `oat_<HMAC-SHA256(order id), 43 chars>_<kid>` under the deployment's token keys, so whoever placed the
 * order can read it without a session, they rotate with SHOP_TOKEN_KEYS, and no order id is ever guessable into one.
 */
const purpose = "shop.orders.access.v1\n";

function mac(secret: Uint8Array, orderId: string): string {
  return createHmac("sha256", secret)
    .update(purpose + orderId)
    .digest("base64url");
}

export function orderAccessToken(orderId: string, keys: TokenKeySet): string {
  return `oat_${mac(keys.signing.secret, orderId)}_${keys.signing.kid}`;
}

/** True when `token` was issued for this order by a key the deployment still accepts. */
export function isOrderAccessToken(token: string, orderId: string, keys: TokenKeySet): boolean {
  const match = /^oat_([A-Za-z0-9_-]{43})_([A-Za-z0-9._-]{1,64})$/.exec(token);
  if (match === null) return false;
  const key = keys.accepted.find((k) => k.kid === match[2]);
  if (key === undefined) return false;
  const expected = Buffer.from(mac(key.secret, orderId));
  const given = Buffer.from(match[1] as string);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
