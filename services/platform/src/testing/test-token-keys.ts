import { randomBytes } from "node:crypto";
import { generateTokenSecret, parseTokenKeySet, type TokenKeySet } from "../auth/token-key-set.js";
import { createTokens, type Tokens } from "../auth/tokens.js";

/** `SHOP_TOKEN_KEYS` text with one fresh random key: tests never sign with a fixed, guessable secret. */
export function generateTestTokenKeys(kid = `test-${randomBytes(3).toString("hex")}`): string {
  return `${kid}:${generateTokenSecret()}`;
}

/** The token keys of in-process test services (`startTestService`), random per test process. */
export const testTokenKeys: TokenKeySet = parseTokenKeySet(generateTestTokenKeys());

/** Issues and checks tokens with `testTokenKeys`, as a service of the same deployment would. */
export const testTokens: Tokens = createTokens(testTokenKeys);
