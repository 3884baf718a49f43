// Acceptance for issue 8's "forgeable tokens": services started the way main.ts starts them (configuration from the
// environment, createPlatform, platform.serve) refuse every token a caller could make without the deployment's key,
// every token naming seller or operator, and tokens that are expired, meant for someone else or signed by a retired
// key; and they keep accepting tokens of the previous key during a rotation. Tokens are made by hand with node:crypto,
// as an attacker would, so this file also runs against the platform as it was before (where it fails).
import { createHmac, randomBytes } from "node:crypto";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, createPlatform, loadConfig, type Platform, platformConfigSpec } from "../src/index.js";
import {
  clientFor,
  codeOf,
  createTestEnv,
  type ProtocolName,
  type TestEnv,
  transportFor,
} from "../src/testing/index.js";
import { fakeInventoryService } from "./fixtures/fake-inventory-service.js";

const liveSecret = randomBytes(48).toString("base64url");
const nextSecret = randomBytes(48).toString("base64url");
/** The fixed secrets anyone could try: the old built-in default, the old compose default, the old test secret, … */
const guessedSecrets = [
  "dev-only-secret-change-me",
  "change-me-in-production",
  "test-token-secret",
  "secret",
  "shop",
  "changeme",
  "",
];

let env: TestEnv;
const running: Array<{ shutdown(): Promise<void> }> = [];

interface Service {
  url: string;
  platform: Platform;
  calls: ReturnType<typeof fakeInventoryService>["calls"];
}

/** One service process's worth of wiring, from environment variables, as main.ts does it. */
async function startService(extraEnv: Record<string, string>): Promise<Service> {
  const config = loadConfig(platformConfigSpec, { ...env.serviceEnv, SHOP_PORT: "0", ...extraEnv });
  const platform = await createPlatform("inventory", config, { logger: createLogger("inventory", "silent") });
  const fake = fakeInventoryService();
  const server = await platform.serve({ name: "inventory", routes: fake.routes });
  running.push(server);
  return { url: server.url, platform, calls: fake.calls };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An HS256 JWT signed with `secret`, made without any JWT library. */
function jwt(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "HS256", typ: "JWT", ...header })}.${b64({
    iss: "shop",
    aud: "shop",
    sub: "attacker",
    iat: now,
    exp: now + 600,
    ...claims,
  })}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** The platform's previous token format: `v1.<payload>.<HMAC-SHA256 of the payload>`. */
function v1Token(role: Role, secret: string): string {
  const payload = b64({ sub: "attacker", role, exp: Math.floor(Date.now() / 1000) + 600 });
  return `v1.${payload}.${createHmac("sha256", secret).update(payload).digest("base64url")}`;
}

function xApiKey(credential: string): Interceptor {
  return (next) => (req) => {
    req.header.set("x-api-key", credential);
    return next(req);
  };
}

const adjustTo999 = { sku: "MUG-1", change: { case: "setOnHand" as const, value: 999n }, reason: "forged" };

async function adjustWith(service: Service, token: string, protocol: ProtocolName = "connect-binary") {
  return codeOf(clientFor(InventoryService, service.url, { credential: token, protocol }).adjust(adjustTo999));
}

async function getReservationWith(service: Service, token: string) {
  return codeOf(
    clientFor(InventoryService, service.url, { credential: token }).getReservation({ reservationId: "r1" }),
  );
}

let current: Service;
let withLegacySecret: Service;
let rotating: Service;
let retired: Service;

beforeAll(async () => {
  env = await createTestEnv();
  current = await startService({ SHOP_TOKEN_KEYS: `live:${liveSecret}` });
  // SHOP_AUTH_SECRET is what the platform read before SHOP_TOKEN_KEYS; a deployment still setting it gains nothing.
  withLegacySecret = await startService({ SHOP_TOKEN_KEYS: `live:${liveSecret}`, SHOP_AUTH_SECRET: liveSecret });
  rotating = await startService({ SHOP_TOKEN_KEYS: `next:${nextSecret},live:${liveSecret}` });
  retired = await startService({ SHOP_TOKEN_KEYS: `next:${nextSecret}` });
});

afterAll(async () => {
  for (const server of running) await server.shutdown();
  await env?.cleanup();
});

describe("bearer tokens a caller could make without the key", () => {
  it("refuses an operator token signed with the old built-in secret or a guessed one, as a JWT or in the v1 format", async () => {
    for (const secret of guessedSecrets) {
      const forged = [
        v1Token(Role.OPERATOR, secret),
        jwt({ role: "operator" }, secret),
        jwt({ role: "operator" }, secret, { kid: "live" }),
        jwt({ role: Role.OPERATOR }, secret, { kid: "default" }),
      ];
      for (const token of forged) {
        expect(await adjustWith(current, token), `${secret}: ${token}`).toBe(Code.Unauthenticated);
      }
      expect(await adjustWith(current, forged[0] as string, "grpc")).toBe(Code.Unauthenticated);
      const viaApiKeyHeader = createClient(
        InventoryService,
        transportFor("connect-json", current.url, [xApiKey(forged[2] as string)]),
      );
      expect(await codeOf(viaApiKeyHeader.adjust(adjustTo999))).toBe(Code.Unauthenticated);
    }
    expect(current.calls.filter((call) => call.method === "adjust")).toEqual([]);
  });

  it("refuses operator and seller tokens even when signed with the deployment's real key", async () => {
    for (const role of [Role.OPERATOR, Role.SELLER]) {
      const name = role === Role.OPERATOR ? "operator" : "seller";
      for (const token of [
        jwt({ role: name }, liveSecret, { kid: "live" }),
        jwt({ role }, liveSecret, { kid: "live" }),
        v1Token(role, liveSecret),
      ]) {
        expect(await adjustWith(withLegacySecret, token)).toBe(Code.Unauthenticated);
        expect(await adjustWith(current, token)).toBe(Code.Unauthenticated);
      }
    }
    expect([...current.calls, ...withLegacySecret.calls].filter((call) => call.method === "adjust")).toEqual([]);
  });

  it("never issues a seller or operator token itself", async () => {
    for (const role of [Role.OPERATOR, Role.SELLER, Role.PUBLIC]) {
      await expect(current.platform.tokens.issue({ role, subject: "x" })).rejects.toThrow(/customer and service/);
    }
    const service = await current.platform.tokens.issue({ role: Role.SERVICE, subject: "orders" });
    expect(await getReservationWith(current, service)).toBe("ok");
    const listAll = clientFor(InventoryService, current.url, { credential: service }).listReservations({});
    expect(await codeOf(listAll)).toBe(Code.PermissionDenied);
  });
});

describe("tokens signed with the real key", () => {
  it("accepts a current service token, and refuses it expired, for another issuer or audience, or by a retired key", async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = { role: "service", sub: "orders" };
    expect(await getReservationWith(current, jwt(valid, liveSecret, { kid: "live" }))).toBe("ok");
    expect(current.calls.at(-1)?.principal).toEqual({ role: Role.SERVICE, subject: "orders" });

    const refused = {
      expired: jwt({ ...valid, iat: now - 3600, exp: now - 60 }, liveSecret, { kid: "live" }),
      "another issuer": jwt({ ...valid, iss: "someone-else" }, liveSecret, { kid: "live" }),
      "another audience": jwt({ ...valid, aud: "another-api" }, liveSecret, { kid: "live" }),
      "no expiry": jwt({ ...valid, exp: undefined }, liveSecret, { kid: "live" }),
      "no key id": jwt(valid, liveSecret, { kid: undefined }),
      "another key id": jwt(valid, liveSecret, { kid: "next" }),
      "retired key": jwt(valid, liveSecret, { kid: "live" }),
    };
    for (const [what, token] of Object.entries(refused)) {
      const service = what === "retired key" ? retired : current;
      expect(await getReservationWith(service, token), what).toBe(Code.Unauthenticated);
    }
  });

  it("accepts tokens of the previous key during a rotation, and refuses them once the key is retired", async () => {
    const previous = jwt({ role: "customer", sub: "cus_1" }, liveSecret, { kid: "live" });
    const next = jwt({ role: "service", sub: "orders" }, nextSecret, { kid: "next" });
    const stock = (service: Service, token: string) =>
      codeOf(clientFor(InventoryService, service.url, { credential: token }).getStock({ skus: ["MUG-1"] }));

    expect(await stock(rotating, previous)).toBe("ok");
    expect(rotating.calls.at(-1)?.principal).toEqual({ role: Role.CUSTOMER, subject: "cus_1" });
    expect(await getReservationWith(rotating, next)).toBe("ok");
    // The rotating service signs with the new key, which the retired-key deployment accepts.
    const issued = await rotating.platform.tokens.issue({ role: Role.SERVICE, subject: "orders" });
    expect(await getReservationWith(retired, issued)).toBe("ok");

    expect(await stock(retired, previous)).toBe(Code.Unauthenticated);
    expect(await getReservationWith(retired, next)).toBe("ok");
  });
});
