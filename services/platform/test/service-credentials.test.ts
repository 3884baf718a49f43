// Service-to-service calls (orders → inventory next): the caller authenticates with its own API key of role service
// (SHOP_SERVICE_KEY), which the callee knows from SHOP_STATIC_API_KEYS, through `platform.serviceTransport`.
import { Code, createClient } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLogger,
  createPlatform,
  generateApiKey,
  isConfigError,
  loadConfig,
  type Platform,
  platformConfigSpec,
  type RunningService,
} from "../src/index.js";
import { codeOf, createTestEnv, type TestEnv } from "../src/testing/index.js";
import { fakeInventoryService } from "./fixtures/fake-inventory-service.js";

const ordersKey = generateApiKey(Role.SERVICE);
let env: TestEnv;
let inventory: { platform: Platform; running: RunningService; calls: ReturnType<typeof fakeInventoryService>["calls"] };
let orders: Platform;
let anonymous: Platform;

async function platformWith(name: string, extraEnv: Record<string, string>): Promise<Platform> {
  const config = loadConfig(platformConfigSpec, { ...env.serviceEnv, SHOP_PORT: "0", ...extraEnv });
  return createPlatform(name, config, { logger: createLogger(name, "silent") });
}

beforeAll(async () => {
  env = await createTestEnv();
  const platform = await platformWith("inventory", { SHOP_STATIC_API_KEYS: `service:${ordersKey.secret}` });
  const fake = fakeInventoryService();
  inventory = {
    platform,
    running: await platform.serve({ name: "inventory", routes: fake.routes }),
    calls: fake.calls,
  };
  orders = await platformWith("orders", { SHOP_SERVICE_KEY: ordersKey.secret });
  anonymous = await platformWith("search", {});
});

afterAll(async () => {
  await inventory?.running.shutdown();
  await orders?.close();
  await anonymous?.close();
  await env?.cleanup();
});

describe("service credentials", () => {
  it("calls another service as itself, with the service role and nothing more", async () => {
    const client = createClient(InventoryService, orders.serviceTransport(inventory.running.url));
    expect(await codeOf(client.getReservation({ reservationId: "r1" }))).toBe("ok");
    expect(inventory.calls.at(-1)?.principal).toEqual({ role: Role.SERVICE, subject: ordersKey.record.id });
    // Listing every reservation is an operator's view, not a service's.
    expect(await codeOf(client.listReservations({}))).toBe(Code.PermissionDenied);
  });

  it("stops a service that calls others without SHOP_SERVICE_KEY with a config problem", () => {
    let error: unknown;
    try {
      anonymous.serviceTransport(inventory.running.url);
    } catch (err) {
      error = err;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/SHOP_SERVICE_KEY is required for search to call/);
  });
});
