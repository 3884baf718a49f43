import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { generateTokenSecret, parseTokenKeySet } from "./token-key-set.js";
import { createTokens } from "./tokens.js";

const secretA = generateTokenSecret();
const secretB = generateTokenSecret();
const keysA = parseTokenKeySet(`a:${secretA}`);
const customer = { role: Role.CUSTOMER, subject: "cus_1" };

/** A token made by hand with jose, as an attacker or another library would. */
function handMade(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { kid: "a" }) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: "shop", aud: "shop", sub: "x", iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", ...header })
    .sign(new TextEncoder().encode(secret));
}

describe("tokens", () => {
  it("issues standard JWTs: HS256 with kid, iss, aud, sub, iat, exp and the role", async () => {
    const token = await createTokens(keysA).issue(customer, { ttlSeconds: 600 });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", kid: "a", typ: "JWT" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: "shop", aud: "shop", sub: "cus_1", role: "customer" });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
    expect(await createTokens(keysA).verify(token)).toEqual({ principal: customer });
  });

  it("only ever issues the customer or service role", async () => {
    const tokens = createTokens(keysA);
    await expect(tokens.issue({ role: Role.SERVICE, subject: "orders" })).resolves.toMatch(/^ey/);
    for (const role of [Role.SELLER, Role.OPERATOR, Role.PUBLIC]) {
      await expect(tokens.issue({ role, subject: "x" })).rejects.toThrow(/only customer and service/);
    }
  });

  it("refuses tokens naming seller, operator, public or no role, even signed with the real key", async () => {
    const tokens = createTokens(keysA);
    for (const role of ["seller", "operator", "public", "OPERATOR", 3, undefined]) {
      expect(await tokens.verify(await handMade({ role }, secretA))).toEqual({ refused: "role-not-allowed" });
    }
    expect(await tokens.verify(await handMade({ role: "customer" }, secretA))).toHaveProperty("principal");
  });

  it("refuses expired tokens, wrong issuer or audience, missing claims and unknown keys", async () => {
    const tokens = createTokens(keysA);
    const now = Math.floor(Date.now() / 1000);
    const refusal = async (claims: Record<string, unknown>, header?: Record<string, unknown>, secret = secretA) =>
      (await tokens.verify(await handMade({ role: "customer", ...claims }, secret, header))).refused;
    expect(await refusal({ iat: now - 3600, exp: now - 60 })).toBe("expired");
    expect(await refusal({ iss: "someone-else" })).toBe("bad-claims");
    expect(await refusal({ aud: "another-api" })).toBe("bad-claims");
    expect(await refusal({ iat: undefined })).toBe("bad-claims");
    expect(await refusal({ sub: undefined })).toBe("bad-claims");
    expect(await refusal({ iat: now + 3600 })).toBe("bad-claims");
    expect(await refusal({ iat: now - 2 * 86_400, exp: now + 60 })).toBe("expired");
    expect(await refusal({}, { kid: "b" })).toBe("unknown-key");
    expect(await refusal({}, { kid: undefined })).toBe("unknown-key");
    expect(await refusal({}, { kid: "a" }, secretB)).toBe("bad-signature");
    expect(await refusal({}, { kid: "a", typ: "at+jwt" })).toBe("bad-claims");
  });

  it("refuses other algorithms, unsigned tokens and garbage", async () => {
    const tokens = createTokens(keysA);
    const hs512 = await new SignJWT({ role: "customer" })
      .setProtectedHeader({ alg: "HS512", kid: "a", typ: "JWT" })
      .setIssuer("shop")
      .setAudience("shop")
      .setSubject("x")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(secretA));
    expect((await tokens.verify(hs512)).refused).toBeDefined();
    const [header, payload] = (await handMade({ role: "customer" }, secretA)).split(".");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: "a", typ: "JWT" })).toString("base64url")}.${payload}.`;
    expect((await tokens.verify(none)).refused).toBeDefined();
    expect((await tokens.verify(`${header}.${payload}.`)).refused).toBe("bad-signature");
    expect((await tokens.verify("v1.e30.abc")).refused).toBe("malformed");
    expect((await tokens.verify("x".repeat(10_000))).refused).toBe("malformed");
  });

  it("rotates: tokens of the previous key stay valid while it is listed, and are refused once it is retired", async () => {
    const beforeRotation = createTokens(parseTokenKeySet(`old:${secretA}`));
    const duringRotation = createTokens(parseTokenKeySet(`new:${secretB},old:${secretA}`));
    const afterRotation = createTokens(parseTokenKeySet(`new:${secretB}`));
    const oldToken = await beforeRotation.issue(customer);
    const newToken = await duringRotation.issue(customer);
    expect(decodeProtectedHeader(newToken).kid).toBe("new");
    expect(await duringRotation.verify(oldToken)).toEqual({ principal: customer });
    expect(await afterRotation.verify(newToken)).toEqual({ principal: customer });
    expect(await afterRotation.verify(oldToken)).toEqual({ refused: "unknown-key" });
  });

  it("follows the injected clock", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const tokens = createTokens(keysA, { now: () => now });
    const token = await tokens.issue(customer, { ttlSeconds: 60 });
    expect(await tokens.verify(token)).toEqual({ principal: customer });
    now += 66_000;
    expect(await tokens.verify(token)).toEqual({ refused: "expired" });
    await expect(tokens.issue(customer, { ttlSeconds: 2 * 86_400 })).rejects.toThrow(RangeError);
  });
});
