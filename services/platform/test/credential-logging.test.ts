// Keys and tokens never appear in logs: a service built by createPlatform logs at trace level into memory while every
// kind of credential (valid and invalid API keys, valid, forged and expired tokens, in `Authorization` and in
// `x-api-key`) is sent over every protocol on success and error paths; then the log is searched for each secret.
import { createHmac, randomBytes } from "node:crypto";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLogger,
  createPlatform,
  createTokens,
  generateApiKey,
  generateTokenSecret,
  loadConfig,
  type Platform,
  parseTokenKeySet,
  platformConfigSpec,
  type RunningService,
} from "../src/index.js";
import { allProtocols, codeOf, createTestEnv, type TestEnv, transportFor } from "../src/testing/index.js";
import { fakeInventoryService } from "./fixtures/fake-inventory-service.js";

const lines: string[] = [];
const tokenSecret = generateTokenSecret();
const retiredSecret = generateTokenSecret();
const operator = generateApiKey(Role.OPERATOR).secret;
const seller = generateApiKey(Role.SELLER).secret;
const service = generateApiKey(Role.SERVICE).secret;
let env: TestEnv;
let platform: Platform;
let running: RunningService;
const credentials: Record<string, string> = {};

function header(name: "authorization" | "x-api-key", credential: string): Interceptor {
  return (next) => (req) => {
    req.header.set(name, name === "authorization" ? `Bearer ${credential}` : credential);
    return next(req);
  };
}

beforeAll(async () => {
  env = await createTestEnv();
  const config = loadConfig(platformConfigSpec, {
    ...env.serviceEnv,
    SHOP_PORT: "0",
    SHOP_TOKEN_KEYS: `live:${tokenSecret}`,
    SHOP_STATIC_API_KEYS: `operator:${operator},seller:${seller},service:${service}`,
    SHOP_SERVICE_KEY: service,
  });
  platform = await createPlatform("inventory", config, {
    logger: createLogger("inventory", "trace", { write: (line: string) => void lines.push(line) }),
  });
  running = await platform.serve({ name: "inventory", routes: fakeInventoryService().routes });

  const tokens = createTokens(parseTokenKeySet(`live:${tokenSecret}`));
  const forgedKey = `${operator.slice(0, -8)}AAAAAAAA`;
  const now = Math.floor(Date.now() / 1000);
  const unsigned = Buffer.from(JSON.stringify({ sub: "x", role: 4, exp: now + 600 })).toString("base64url");
  Object.assign(credentials, {
    operator,
    seller,
    service,
    forgedKey,
    unknownKey: generateApiKey(Role.OPERATOR).secret,
    malformedKey: `sk_${randomBytes(20).toString("hex")}`,
    customerToken: await tokens.issue({ role: Role.CUSTOMER, subject: "cus_1" }),
    serviceToken: await tokens.issue({ role: Role.SERVICE, subject: "orders" }),
    expiredToken: await createTokens(parseTokenKeySet(`live:${tokenSecret}`), {
      now: () => Date.now() - 7_200_000,
    }).issue({ role: Role.CUSTOMER, subject: "cus_1" }, { ttlSeconds: 60 }),
    retiredKeyToken: await createTokens(parseTokenKeySet(`old:${retiredSecret}`)).issue({
      role: Role.SERVICE,
      subject: "orders",
    }),
    forgedToken: await createTokens(parseTokenKeySet(`live:${generateTokenSecret()}`)).issue({
      role: Role.SERVICE,
      subject: "orders",
    }),
    v1Token: `v1.${unsigned}.${createHmac("sha256", "dev-only-secret-change-me").update(unsigned).digest("base64url")}`,
  });
});

afterAll(async () => {
  await running?.shutdown();
  await env?.cleanup();
});

describe("credentials in logs", () => {
  it("never writes a key, a token or a token key, at trace level, on any path", async () => {
    let calls = 0;
    for (const protocol of allProtocols) {
      for (const credential of Object.values(credentials)) {
        for (const name of ["authorization", "x-api-key"] as const) {
          const client = createClient(
            InventoryService,
            transportFor(protocol, running.url, [header(name, credential)]),
          );
          const outcomes = await Promise.all([
            codeOf(client.adjust({ sku: "MUG-1", change: { case: "delta", value: 1n }, reason: "count" })),
            codeOf(client.getReservation({ reservationId: "r1" })),
            codeOf(client.getReservation({ reservationId: "missing" })),
            codeOf(client.getReservation({ reservationId: "explode" })),
            codeOf(client.getStock({ skus: [] })),
            codeOf(client.getStock({ skus: ["MUG-1"] })),
          ]);
          calls += outcomes.length;
        }
      }
    }
    // The service's own credential, on calls it makes to another service.
    const asItself = createClient(InventoryService, platform.serviceTransport(running.url));
    expect(await codeOf(asItself.getReservation({ reservationId: "r1" }))).toBe("ok");
    expect(await codeOf(asItself.getReservation({ reservationId: "explode" }))).toBe(Code.Internal);
    calls += 2;

    const log = lines.join("");
    // The log really holds every call, its outcome and the internal errors' details.
    expect(log.match(/"msg":"rpc"/g)?.length).toBe(calls);
    for (const code of ["ok", "unauthenticated", "permissiondenied", "invalidargument"]) {
      expect(log.includes(`"code":"${code}"`), code).toBe(true);
    }
    expect(log.includes('"msg":"internal error"')).toBe(true);
    expect(log.includes("redis: connection reset while reading reservation")).toBe(true);

    const secrets: Record<string, string> = { tokenSecret, retiredSecret };
    for (const [what, credential] of Object.entries(credentials)) {
      secrets[what] = credential;
      // The part after the key id, and a token's signature, are secrets on their own.
      secrets[`${what} (secret part)`] = credential.slice(-32);
    }
    for (const [what, secret] of Object.entries(secrets)) {
      expect(log.includes(secret), `${what} appears in the log`).toBe(false);
    }
  });

  it("never quotes a credential in a configuration problem", () => {
    let message = "";
    try {
      loadConfig(platformConfigSpec, {
        SHOP_TOKEN_KEYS: `live:${tokenSecret},live:${retiredSecret}`,
        SHOP_STATIC_API_KEYS: `${operator},admin:${seller},seller:${service.slice(0, -1)}`,
        SHOP_SERVICE_KEY: operator.replace("sk_", "ak_"),
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split("\n")).toHaveLength(4);
    for (const secret of [tokenSecret, retiredSecret, operator.slice(16), seller.slice(16), service.slice(16, -1)]) {
      expect(message).not.toContain(secret);
    }
  });
});
