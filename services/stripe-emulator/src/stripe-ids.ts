import { randomBytes } from "node:crypto";

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `length` random characters of [0-9A-Za-z], as Stripe's ids and secrets use. */
export function randomToken(length = 24): string {
  // 248 is the largest multiple of 62 below 256: bytes above it are skipped so every character is equally likely.
  let token = "";
  while (token.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && token.length < length) token += alphabet[byte % 62];
    }
  }
  return token;
}

/** A Stripe-style id: `pi_…`, `ch_…`, `re_…`, `evt_…`, `we_…`; request ids (`req_…`) are shorter, as Stripe's. */
export function newStripeId(prefix: string): string {
  return `${prefix}_${randomToken(prefix === "req" ? 14 : 24)}`;
}
