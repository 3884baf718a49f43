import { createInventory, type Inventory, loadInventoryConfig } from "@shop/inventory";
import { createLogger, createPlatform, type RunningService } from "@shop/platform";
import { createTestEnv, createTestKeys, type TestEnv, type TestKeys } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShop } from "../support/run-shop.js";

let env: TestEnv;
let inventory: Inventory;
let running: RunningService;
let keys: TestKeys;

beforeAll(async () => {
  env = await createTestEnv();
  const config = loadInventoryConfig({ ...env.serviceEnv, SHOP_PORT: "0" });
  const platform = await createPlatform("inventory", config, { logger: createLogger("inventory", "silent") });
  inventory = await createInventory(platform, config);
  running = await inventory.start();
  keys = createTestKeys(platform.apiKeys);
});

afterAll(async () => {
  await inventory?.stop();
  await env?.cleanup();
});

/** Runs `shop …` in-process against the inventory, as an operator, and returns what it printed. */
const shop = (...args: string[]) => runShop(running.url, keys.operator, args);

describe("shop stock, reservations and inventory", () => {
  it("adjusts and reads live stock as a table and as JSON", async () => {
    expect((await shop("stock", "adjust", "CLI-1", "--set", "12", "--reason", "count")).code).toBe(0);
    expect((await shop("stock", "adjust", "CLI-1", "--by", "-2", "--reason", "broken")).code).toBe(0);
    const table = await shop("stock", "get", "CLI-1", "CLI-NONE");
    expect(table.code).toBe(0);
    expect(table.out.split("\n")[0]).toMatch(/^SKU\s+ON HAND\s+RESERVED\s+AVAILABLE\s+VERSION$/);
    expect(table.out).toMatch(/CLI-1\s+10\s+0\s+10\s+2/);
    expect(table.out).toMatch(/CLI-NONE\s+0\s+0\s+0\s+0/);
    const json = JSON.parse((await shop("stock", "get", "CLI-1", "--json")).out);
    expect(json).toEqual([{ sku: "CLI-1", onHand: "10", reserved: "0", available: "10", version: "2" }]);
  });

  it("refuses bad adjustments before sending (exit 1) and reports refusals by the service (exit 2)", async () => {
    expect((await shop("stock", "adjust", "CLI-1", "--reason", "x")).code).toBe(1);
    expect((await shop("stock", "adjust", "CLI-1", "--by", "2.5", "--reason", "x")).code).toBe(1);
    expect((await shop("stock", "set", "CLI-1")).code).toBe(1);
    const refused = await shop("stock", "adjust", "CLI-1", "--by", "-11", "--reason", "x");
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/FailedPrecondition/);
  });

  it("lists and releases reservations", async () => {
    const client = (await import("@shop/sdk")).createShopClient({ baseUrl: running.url, credential: keys.service });
    await client.inventory.reserve({
      reservationId: "cli-r1",
      lines: [{ sku: "CLI-1", quantity: 3n }],
      reference: "o-1",
    });
    const listed = await shop("reservations", "list");
    expect(listed.out).toMatch(/cli-r1\s+held\s+CLI-1×3\s+\S+Z\s+\S+Z\s+o-1/);
    const released = await shop("reservations", "release", "cli-r1", "--reason", "stuck checkout", "--json");
    expect(JSON.parse(released.out)).toMatchObject({ id: "cli-r1", state: "RESERVATION_STATE_RELEASED" });
    expect((await shop("reservations", "list", "--state", "released", "--json")).out).toContain("cli-r1");
    expect((await shop("reservations", "list", "--state", "gone")).code).toBe(1);
  });

  it("rebuilds with a final report", async () => {
    const rebuilt = await shop("inventory", "rebuild");
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.err).toMatch(/rebuilt: \d+ ledger events read/);
    const json = JSON.parse((await shop("inventory", "rebuild", "--json")).out);
    expect(json).toMatchObject({ done: true });
  });
});
