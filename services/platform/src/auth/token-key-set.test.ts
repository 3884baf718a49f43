import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { generateDevTokenKeySet, generateTokenSecret, parseTokenKeySet } from "./token-key-set.js";

const strong = () => generateTokenSecret();

describe("SHOP_TOKEN_KEYS", () => {
  it("takes the first key as the signing key and accepts both", () => {
    const keys = parseTokenKeySet(`new:${strong()}, old:${strong()}`);
    expect(keys.signing.kid).toBe("new");
    expect(keys.accepted.map((key) => key.kid)).toEqual(["new", "old"]);
    expect(keys.generated).toBe(false);
  });

  it("accepts what `openssl rand -base64 48` and `openssl rand -hex 32` print", () => {
    expect(() => parseTokenKeySet(`k1:${randomBytes(48).toString("base64")}`)).not.toThrow();
    expect(() => parseTokenKeySet(`k1:${randomBytes(32).toString("base64")}`)).not.toThrow();
    expect(() => parseTokenKeySet(`k1:${randomBytes(32).toString("hex")}`)).not.toThrow();
  });

  it("refuses secrets with fewer than 256 random bits, and placeholders", () => {
    for (const secret of [
      "dev-only-secret-change-me",
      "change-me-in-production",
      randomBytes(31).toString("base64url"),
      randomBytes(31).toString("hex"),
      "a".repeat(100),
      "dev-only-secret-change-me".repeat(4),
      "correct horse battery staple correct horse battery staple",
      "this-is-my-super-secret-key-for-production-use",
    ]) {
      expect(() => parseTokenKeySet(`k1:${secret}`), secret).toThrow(/secret of key "k1" .*openssl rand -base64 48/);
    }
  });

  it("refuses more than two keys, repeated key ids and entries without a kid", () => {
    expect(() => parseTokenKeySet(`a:${strong()},b:${strong()},c:${strong()}`)).toThrow(/3 keys given, at most 2/);
    expect(() => parseTokenKeySet(`a:${strong()},a:${strong()}`)).toThrow(/"a" appears twice/);
    expect(() => parseTokenKeySet(strong())).toThrow(/entry 1 is not <kid>:<secret>/);
    expect(() => parseTokenKeySet(" , ")).toThrow(/empty/);
  });

  it("never quotes a secret in its messages", () => {
    const secret = strong();
    const weak = randomBytes(20).toString("hex");
    for (const text of [
      secret,
      `k1:${weak}`,
      `k1:${strong()},k1:${secret}`,
      `bad kid:${secret}`,
      `a:${secret},b:${weak}`,
    ]) {
      let message = "";
      try {
        parseTokenKeySet(text);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(secret);
      expect(message).not.toContain(weak);
    }
  });

  it("shows only key ids when printed or serialized", () => {
    const secret = strong();
    const keys = parseTokenKeySet(`k1:${secret}`);
    expect(JSON.stringify({ keys })).toBe('{"keys":{"kids":["k1"],"generated":false}}');
    expect(inspect(keys, { depth: 5 })).not.toContain(secret);
    expect(inspect(keys, { depth: 5 })).not.toContain(Buffer.from(secret).toString("hex").slice(0, 16));
  });

  it("makes up a development key that is random per call and marked as generated", () => {
    const a = generateDevTokenKeySet();
    const b = generateDevTokenKeySet();
    expect(a.generated).toBe(true);
    expect(a.signing.kid).not.toBe(b.signing.kid);
    expect(Buffer.from(a.signing.secret).equals(Buffer.from(b.signing.secret))).toBe(false);
    expect(a.signing.secret.length).toBeGreaterThanOrEqual(32);
  });
});
