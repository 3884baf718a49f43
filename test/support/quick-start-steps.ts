// The README quick start's story against a started stack, step by step, for the tests that tell it: a seller's red
// mug from `shop products create` to search with its stock, a guest buying one by card (examples/guest-checkout.ts)
// and the unit taken from stock.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { waitFor } from "@shop/platform/testing";
import { expect } from "vitest";
import type { ShopProcessRun } from "./run-shop.js";
import { freshEnv } from "./stack-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

/** `shop …` as a test runs it, logged in as someone who may create products. */
export type ShopCommand = (...args: string[]) => Promise<ShopProcessRun>;

/** Creates "Red mug" (MUG-1, 12.50 EUR, 40 in stock) with `shop` and waits until search shows it in stock. */
export async function createRedMug(shop: ShopCommand, moreArgs: string[] = []): Promise<{ id: string }> {
  const created = await shop(
    ...["products", "create", "--title", "Red mug", "--price", "12.50", "--currency", "EUR"],
    ...["--sku", "MUG-1", "--stock", "40", ...moreArgs, "--json"],
  );
  expect(created.code, created.stderr).toBe(0);
  const product = JSON.parse(created.stdout) as { id: string };
  await waitFor(
    async () => {
      const found = await shop("search", "red mug", "--in-stock", "--json");
      return found.code === 0 && found.stdout.includes(product.id) && found.stdout.includes('"available": "40"');
    },
    20_000,
    "product searchable with its stock",
  );
  return product;
}

/**
 * A guest buys one MUG-1 by card through the gateway with examples/guest-checkout.ts, run on `node` (default: the
 * test's own); returns the paid order's id once the unit is gone from stock.
 */
export async function guestBuysRedMug(shop: ShopCommand, gatewayUrl: string, node = process.execPath): Promise<string> {
  const checkout = await run(node, ["--import", "tsx", "examples/guest-checkout.ts", "MUG-1"], {
    cwd: root,
    env: freshEnv({ SHOP_ENDPOINT: gatewayUrl }),
  });
  const [, orderId] = /^order (ord_\w+): PAID 12\.50 EUR$/m.exec(checkout.stdout) ?? [];
  expect(orderId, checkout.stdout + checkout.stderr).toBeDefined();
  await waitFor(
    async () => {
      const stock = await shop("stock", "get", "MUG-1", "--json");
      return stock.code === 0 && (JSON.parse(stock.stdout) as Array<{ available: string }>)[0]?.available === "39";
    },
    20_000,
    "the order's unit taken from stock",
  );
  return orderId ?? "";
}
