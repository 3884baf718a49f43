import { randomBytes } from "node:crypto";
import { inspect } from "node:util";

/** One HS256 key; `kid` names it in the header of every token it signs, so a verifier knows which key to try. */
export interface TokenKey {
  readonly kid: string;
  /** The secret's UTF-8 bytes: what `jose` (or any JWT library given the same string) signs with. */
  readonly secret: Uint8Array<ArrayBuffer>;
}

/**
 * The deployment's token keys (`SHOP_TOKEN_KEYS`): the first signs, and it plus at most one other are accepted, so a
 * key is rotated without downtime. Printing or logging the set shows its key ids only.
 */
export interface TokenKeySet {
  readonly signing: TokenKey;
  readonly accepted: readonly TokenKey[];
  /** True when development mode made the key up for this process (nothing else can verify its tokens). */
  readonly generated: boolean;
}

/** Two keys at once: the one that signs, and the previous (or the next) one during a rotation. */
export const maxTokenKeys = 2;

const kidPattern = /^[A-Za-z0-9._-]{1,64}$/;
const hexPattern = /^[0-9a-fA-F]+$/;
const base64Pattern = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Why a secret is too weak, or undefined when it is strong enough. Random bits are estimated from the alphabet (hex:
 * 4 bits a character, base64: 6) and at least 256 are needed. A secret that repeats itself or has few distinct
 * characters is a placeholder, not random: 43 random base64 characters have fewer than 20 distinct ones with a chance
 * of 2e-8, 64 random hex characters fewer than 8 with 1e-19.
 */
function weakness(secret: string): string | undefined {
  const advice = "use at least 32 random bytes, e.g. `openssl rand -base64 48`";
  const distinct = new Set(secret).size;
  const repeats = (secret + secret).indexOf(secret, 1) < secret.length;
  if (hexPattern.test(secret)) {
    if (secret.length < 64) return `is too short (${secret.length} hex characters, 64 needed): ${advice}`;
    if (distinct < 8 || repeats) return `does not look random: ${advice}`;
    return undefined;
  }
  if (!base64Pattern.test(secret)) return `must be base64 or hex, as \`openssl rand\` prints it: ${advice}`;
  const characters = secret.replace(/=+$/, "").length;
  if (characters < 43) return `is too short (${characters} base64 characters, 43 needed): ${advice}`;
  if (distinct < 20 || repeats) return `does not look random: ${advice}`;
  return undefined;
}

function keySet(keys: TokenKey[], generated: boolean): TokenKeySet {
  const [signing] = keys;
  if (signing === undefined) throw new Error("a token key set needs a key");
  const describe = () => ({ kids: keys.map((key) => key.kid), generated });
  return {
    signing,
    accepted: keys,
    generated,
    // Never the secrets, whoever prints or logs the configuration.
    toJSON: describe,
    [inspect.custom]: describe,
  } as TokenKeySet;
}

/**
 * Parses `kid:secret[,kid:secret]` (`SHOP_TOKEN_KEYS`); throws a message naming what is wrong, never quoting a
 * secret, so `loadConfig` can list it with the other problems.
 */
export function parseTokenKeySet(text: string, name = "SHOP_TOKEN_KEYS"): TokenKeySet {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const format = `${name} must be <kid>:<secret>[,<kid>:<secret>]`;
  if (entries.length === 0) throw new Error(`${format}: it is empty`);
  if (entries.length > maxTokenKeys) {
    throw new Error(`${format}: ${entries.length} keys given, at most ${maxTokenKeys} (the signing key and one other)`);
  }
  const problems: string[] = [];
  const keys: TokenKey[] = [];
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const kid = colon > 0 ? entry.slice(0, colon) : "";
    const secret = colon > 0 ? entry.slice(colon + 1) : "";
    if (!kidPattern.test(kid) || secret === "") {
      problems.push(`entry ${index + 1} is not <kid>:<secret> (kid: letters, digits, . _ -)`);
      return;
    }
    if (keys.some((key) => key.kid === kid)) {
      problems.push(`key id "${kid}" appears twice`);
      return;
    }
    const weak = weakness(secret);
    if (weak !== undefined) problems.push(`the secret of key "${kid}" ${weak}`);
    keys.push({ kid, secret: new TextEncoder().encode(secret) });
  });
  if (problems.length > 0) throw new Error(`${format}: ${problems.join("; ")}`);
  return keySet(keys, false);
}

/** A fresh secret in the form SHOP_TOKEN_KEYS takes (48 random bytes, base64url), as `openssl rand -base64 48` makes. */
export function generateTokenSecret(): string {
  return randomBytes(48).toString("base64url");
}

/** Development mode's stand-in for a missing SHOP_TOKEN_KEYS: one random key that lives as long as the process. */
export function generateDevTokenKeySet(kid = `dev-${randomBytes(4).toString("hex")}`): TokenKeySet {
  return keySet([{ kid, secret: new TextEncoder().encode(generateTokenSecret()) }], true);
}
