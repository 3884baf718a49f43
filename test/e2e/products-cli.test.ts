import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ProductsHarness, startProductsHarness } from "@shop/products/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sampleCatalog = join(root, "examples", "sample-catalog.csv");
let h: ProductsHarness;
let home: string;

beforeAll(async () => {
  h = await startProductsHarness();
  home = mkdtempSync(join(tmpdir(), "shop-cli-"));
});
afterAll(async () => {
  await h?.cleanup();
  rmSync(home, { recursive: true, force: true });
});

/** Runs the real `shop` binary as a user would, with its own config directory. */
function shop(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "cli", "bin", "shop.js"), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("a seller using the shop CLI for the first time", () => {
  let sellerKey = "";

  it("logs in with an operator key, creates a seller key, and logs in with that", async () => {
    const operator = await shop(["login", "--endpoint", h.server.url, "--key", h.server.keys.operator]);
    expect(operator.stdout).toMatch(/logged in to .* as operator/);
    expect(statSync(join(home, ".config", "shop", "config.json")).mode & 0o777).toBe(0o600);
    const created = await shop(["keys", "create", "--name", "Acme ceramics", "--role", "seller", "--json"]);
    expect(created.code).toBe(0);
    sellerKey = (JSON.parse(created.stdout) as { secret: string }).secret;
    const seller = await shop(["login", "--key", sellerKey]);
    expect(seller.stdout).toMatch(/as seller/);
  });

  it("creates a product from decimal input and lists it", async () => {
    const created = await shop(
      ["products", "create", "--title", "Mug", "--price", "12.50", "--currency", "EUR", "--sku", "MUG-1"].concat([
        "--stock",
        "40",
        "--tag",
        "kitchen",
        "--json",
      ]),
    );
    expect(created.code).toBe(0);
    const product = JSON.parse(created.stdout) as { id: string; price: { amountMinor: string } };
    expect(product.price.amountMinor).toBe("1250");
    const listed = await shop(["products", "list"]);
    expect(listed.stdout).toMatch(new RegExp(`${product.id}\\s+Mug\\s+12\\.50 EUR\\s+MUG-1\\s+active`));
    const stock = await shop(["stock", "get", "MUG-1", "--seller", "--json"]);
    expect(JSON.parse(stock.stdout)).toEqual([{ sku: "MUG-1", quantity: "40" }]);
  });

  it("refuses a price with more decimals than the currency has, as a usage error", async () => {
    const refused = await shop([
      "products",
      "create",
      "--title",
      "Mug",
      "--price",
      "12.505",
      "--currency",
      "EUR",
      "--sku",
      "MUG-9",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/more than 2 decimal places/);
  });

  it("imports the sample catalog, and a second run creates nothing new", async () => {
    const first = await shop(["products", "import", sampleCatalog]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^1200 rows: 1200 created, 0 already imported, 0 failed/);
    const again = await shop(["products", "import", sampleCatalog, "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ rows: 1200, created: 0, alreadyImported: 1200, failed: 0 });
    const listed = await shop(["products", "list", "--limit", "1", "--json"]);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
  });

  it("says what to do next when the key is wrong, with exit code 2", async () => {
    const result = await shop(["products", "list"], { SHOP_API_KEY: `sk_wrongkey0000_${"x".repeat(43)}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/run `shop login`/);
  });
});
