// The README's quick start, as a new user runs it: `npm start` (scripts/start-stack.ts), then the `shop` binary
// against the gateway — log in with the operator key, create a seller key, log in as the seller, create, list, import,
// and see the product with its stock in search. Isolated by namespace, schema, Redis prefix and free ports.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { clientFor, codeOf, createTestEnv, freePort, type TestEnv, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
let env: TestEnv;
let dataDir: string;
let stack: ChildProcess;
let gatewayUrl: string;
let inventoryUrl: string;

/** `shop …` as a separate process, the way a person runs it; returns exit code and output. */
async function shop(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, "cli", "bin", "shop.js"), ...args], {
      cwd: root,
      env: { ...process.env, SHOP_CONFIG: join(dataDir, "cli.json"), SHOP_ENDPOINT: "", SHOP_API_KEY: "" },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  env = await createTestEnv();
  dataDir = await mkdtemp(join(tmpdir(), "shop-quick-start-"));
  const ports = {
    PRODUCTS: await freePort(),
    INVENTORY: await freePort(),
    SEARCH: await freePort(),
    GATEWAY: await freePort(),
  };
  gatewayUrl = `http://127.0.0.1:${ports.GATEWAY}`;
  inventoryUrl = `http://127.0.0.1:${ports.INVENTORY}`;
  stack = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "start-stack.ts")], {
    cwd: root,
    env: {
      ...process.env,
      ...env.serviceEnv,
      SHOP_DATA_DIR: dataDir,
      SHOP_SERVICES: "products,inventory,search,gateway",
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [`SHOP_${name}_PORT`, String(port)])),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = createInterface({ input: stack.stdout as NodeJS.ReadableStream });
  let stderr = "";
  stack.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line.startsWith("Shop is running")) resolve();
    });
    stack.once("exit", (code) => reject(new Error(`npm start exited ${code}: ${stderr.slice(-2000)}`)));
  });
}, 120_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const exited = once(stack, "exit");
    stack.kill("SIGTERM");
    await exited;
  }
  await env?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe("the README quick start", () => {
  it("takes a seller from login to a searchable product with its stock", async () => {
    const operatorKey = (await readFile(join(dataDir, "operator-key"), "utf8")).trim();
    const operatorLogin = await shop("login", "--endpoint", gatewayUrl, "--key", operatorKey);
    expect(operatorLogin.code).toBe(0);
    expect(operatorLogin.stdout).toContain("as operator");
    expect((await stat(join(dataDir, "cli.json"))).mode & 0o777).toBe(0o600);

    const sellerKey = await shop("keys", "create", "--name", "Acme ceramics", "--role", "seller", "--json");
    expect(sellerKey.code).toBe(0);
    const { secret } = JSON.parse(sellerKey.stdout) as { secret: string };
    // Every service learns the new key from the IDENTITY stream; the gateway may take a moment.
    await waitFor(async () => (await shop("login", "--key", secret)).code === 0, 10_000, "seller login");

    const created = await shop(
      "products",
      "create",
      "--title",
      "Red mug",
      "--price",
      "12.50",
      "--currency",
      "EUR",
      "--sku",
      "MUG-1",
      "--stock",
      "40",
      "--tag",
      "kitchen",
      "--json",
    );
    expect(created.code).toBe(0);
    const product = JSON.parse(created.stdout) as { id: string };
    expect((await shop("products", "list")).stdout).toMatch(new RegExp(`${product.id}\\s+Red mug\\s+12\\.50 EUR`));

    const imported = await shop("products", "import", join(root, "examples", "sample-catalog.csv"));
    expect(imported.code).toBe(0);
    expect(imported.stderr + imported.stdout).toMatch(/1200 rows: 1200 created, 0 already imported, 0 failed/);

    await waitFor(
      async () => {
        const stock = await shop("stock", "get", "MUG-1", "--json");
        return stock.code === 0 && (JSON.parse(stock.stdout) as Array<{ available: string }>)[0]?.available === "40";
      },
      15_000,
      "stock applied by inventory",
    );
    await waitFor(
      async () => {
        const found = await shop("search", "red mug", "--in-stock", "--json");
        return found.code === 0 && found.stdout.includes(product.id) && found.stdout.includes('"available": "40"');
      },
      15_000,
      "product searchable with its stock",
    );

    const rounding = await shop(
      "products",
      "create",
      "--title",
      "X",
      "--price",
      "12.505",
      "--currency",
      "EUR",
      "--sku",
      "X-1",
    );
    expect(rounding.code).toBe(1);
    expect(rounding.stderr).toContain("more than 2 decimal places");
  }, 120_000);

  it("keeps the token keys and one service key per service in .shop-data, known to every service", async () => {
    expect((await readFile(join(dataDir, "token-keys"), "utf8")).trim()).toMatch(/^local-1:[A-Za-z0-9_-]{64}$/);
    expect((await stat(join(dataDir, "token-keys"))).mode & 0o777).toBe(0o600);
    for (const caller of ["products", "search"]) {
      const key = (await readFile(join(dataDir, "service-keys", caller), "utf8")).trim();
      expect((await stat(join(dataDir, "service-keys", caller))).mode & 0o777).toBe(0o600);
      const inventory = clientFor(InventoryService, inventoryUrl, { credential: key });
      // The service role may look up reservations, but not set stock: it is never an operator.
      expect(await codeOf(inventory.getReservation({ reservationId: "none" }))).toBe(Code.NotFound);
      expect(await codeOf(inventory.listReservations({}))).toBe(Code.PermissionDenied);
    }
  });
});
