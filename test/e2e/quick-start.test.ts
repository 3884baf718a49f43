// The README's quick start on a machine with nothing running: `npm start` (really through npm) with a fresh data
// directory and every port moved to a free one, so nothing answers where it looks for PostgreSQL, NATS and Redis and
// it starts them itself — PostgreSQL embedded (PGlite), nats-server and redis-server as its children. Then the `shop`
// binary against the gateway, as a person runs it; then SIGTERM to the npm process, after which every process it
// started must be gone and every port free.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answers, findExecutable } from "../../scripts/stack/local-servers.js";
import { createRedMug, guestBuysRedMug } from "../support/quick-start-steps.js";
import { runShopProcess } from "../support/run-shop.js";
import { descendantsOf, freePorts, freshEnv, isRunning, portEnv } from "../support/stack-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
const serversInstalled = findExecutable("nats-server") !== undefined && findExecutable("redis-server") !== undefined;
// CI (SHOP_REQUIRE_ALL=1) runs it regardless: a missing server binary then fails it with the launcher's message.
const runsHere = serversInstalled || process.env.SHOP_REQUIRE_ALL === "1";

describe.skipIf(!runsHere)("npm start on a machine with nothing running, and the README quick start", () => {
  const portNames = [
    "POSTGRES",
    "NATS",
    "REDIS",
    "PRODUCTS",
    "INVENTORY",
    "SEARCH",
    "ORDERS",
    "STRIPE_EMULATOR",
    "GATEWAY",
    "STOREFRONT",
  ] as const;
  let ports: Record<(typeof portNames)[number], number>;
  let dataDir: string;
  let npm: ChildProcess;
  const output: string[] = [];
  let gatewayUrl: string;
  let startedPids: number[] = [];

  /** `shop …` as a separate process, the way a person runs it, with its own stored login. */
  const shop = (...args: string[]) => runShopProcess(args, freshEnv({ SHOP_CONFIG: join(dataDir, "cli.json") }));

  /** The line after the one that starts with `label`, as the launcher prints a key. */
  const lineAfter = (label: string) => output[output.findIndex((line) => line.startsWith(label)) + 1]?.trim();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "shop-quick-start-"));
    ports = await freePorts(portNames);
    gatewayUrl = `http://127.0.0.1:${ports.GATEWAY}`;
    npm = spawn("npm", ["start"], {
      cwd: root,
      env: freshEnv({
        SHOP_DATA_DIR: dataDir,
        ...portEnv(ports),
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    npm.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: npm.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        output.push(line);
        // The last line of what the launcher prints once everything runs.
        if (line.startsWith("Log in with:")) resolve();
      });
      npm.once("exit", (code) =>
        reject(new Error(`npm start exited ${code}:\n${output.slice(-40).join("\n")}\n${stderr.slice(-3000)}`)),
      );
    });
  }, 180_000);

  afterAll(async () => {
    // Only when a test failed before the stop test: nothing of this run may outlive it.
    if (npm && npm.exitCode === null && npm.signalCode === null)
      startedPids = [npm.pid ?? 0, ...descendantsOf(npm.pid ?? 0)];
    for (const pid of startedPids) if (isRunning(pid)) process.kill(pid, "SIGKILL");
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("started PostgreSQL embedded, nats-server and redis-server, with their data in the data directory", async () => {
    expect(output).toContain(
      `PostgreSQL: embedded (PGlite) on 127.0.0.1:${ports.POSTGRES}, data in ${dataDir}/postgres`,
    );
    expect(output).toContain(`NATS: nats-server on 127.0.0.1:${ports.NATS}, data in ${dataDir}/nats`);
    expect(output).toContain(`Redis: redis-server on 127.0.0.1:${ports.REDIS}, data in ${dataDir}/redis`);
    expect(existsSync(join(dataDir, "postgres", "PG_VERSION"))).toBe(true);
    expect(existsSync(join(dataDir, "nats", "jetstream"))).toBe(true);
    const started = descendantsOf(npm.pid ?? 0).map((pid) =>
      execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim(),
    );
    expect(started.some((args) => args.includes("embedded-postgres-server.ts"))).toBe(true);
    expect(started.some((args) => /nats-server .*-js/.test(args))).toBe(true);
    expect(started.some((args) => args.includes("redis-server"))).toBe(true);
  });

  it("prints the gateway, the storefront, the mail outbox and the seller key, and keeps the keys in the data dir", async () => {
    expect(output).toContain(`Gateway (use this endpoint): ${gatewayUrl}`);
    expect(output).toContain(`Storefront (open it in a browser): http://127.0.0.1:${ports.STOREFRONT}`);
    expect(output).toContain(`Order emails (.eml files): in ${join(dataDir, "mail-outbox")}/`);
    expect((await fetch(`http://127.0.0.1:${ports.STOREFRONT}/`)).status).toBe(200);

    const sellerKey = lineAfter("Seller API key");
    expect(sellerKey).toMatch(/^sk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect((await readFile(join(dataDir, "seller-key"), "utf8")).trim()).toBe(sellerKey);
    expect(lineAfter("Operator API key")).toBe((await readFile(join(dataDir, "operator-key"), "utf8")).trim());
    for (const file of ["seller-key", "operator-key", "token-keys", join("service-keys", "products")]) {
      expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600);
    }
    expect(output.join("\n")).toMatch(
      /imported as the sample seller: 1200 rows: 1200 created, 0 already imported, 0 failed/,
    );
  });

  it("takes a new seller from login to a searchable product with its stock, and a guest buys it", async () => {
    const operatorKey = (await readFile(join(dataDir, "operator-key"), "utf8")).trim();
    const operatorLogin = await shop("login", "--endpoint", gatewayUrl, "--key", operatorKey);
    expect(operatorLogin.code, operatorLogin.stderr).toBe(0);
    expect(operatorLogin.stdout).toContain("as operator");

    const sellerKey = await shop("keys", "create", "--name", "Acme ceramics", "--role", "seller", "--json");
    expect(sellerKey.code, sellerKey.stderr).toBe(0);
    const { secret } = JSON.parse(sellerKey.stdout) as { secret: string };
    // Every service learns the new key from the IDENTITY stream; the gateway may take a moment.
    await waitFor(async () => (await shop("login", "--key", secret)).code === 0, 15_000, "seller login");

    const product = await createRedMug(shop, ["--tag", "kitchen"]);
    expect((await shop("products", "list")).stdout).toMatch(new RegExp(`${product.id}\\s+Red mug\\s+12\\.50 EUR`));

    const orderId = await guestBuysRedMug(shop, gatewayUrl);
    await waitFor(
      async () => (await readdir(join(dataDir, "mail-outbox")).catch(() => [])).some((f) => f.startsWith(orderId)),
      20_000,
      "the confirmation email in the printed mail outbox",
    );
    expect((await shop("login", "--key", operatorKey)).code).toBe(0);
    const orders = await shop("orders", "list");
    expect(orders.code, orders.stderr).toBe(0);
    expect(orders.stdout).toContain(orderId);
  }, 120_000);

  it("seeded the sample catalog with its stock as the printed seller, once", async () => {
    const login = await shop("login", "--endpoint", gatewayUrl, "--key", lineAfter("Seller API key") ?? "");
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("as seller");
    const listed = await shop("products", "list");
    expect(listed.code, listed.stderr).toBe(0);
    // The catalog, newest first: the last row of the sample file, and 1,200 seeded products plus the new seller's mug.
    expect(listed.stdout).toContain("OUT-DRYBAG-01200");
    expect(listed.stderr).toContain("showing 50 of 1201");

    // The seed was this very command as this seller: running it again finds every row imported.
    const imported = await shop("products", "import", join(root, "examples", "sample-catalog.csv"));
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/1200 rows: 0 created, 1200 already imported, 0 failed/);

    // examples/sample-catalog.csv, line 2: OUT-FOOTPRIN-00001 with a stock of 150.
    await waitFor(
      async () => {
        const found = await shop("search", "classic ripstop nylon tent footprint terracotta", "--in-stock", "--json");
        return found.stdout.includes('"sku": "OUT-FOOTPRIN-00001"') && found.stdout.includes('"available": "150"');
      },
      20_000,
      "a seeded product searchable with its stock",
    );
    expect((await readFile(join(dataDir, "sample-catalog-imported"), "utf8")).trim()).toMatch(
      /^1200 rows: 1200 created/,
    );
  }, 60_000);

  it("passes the generated contract suites, run with `npm run contract` against it", async () => {
    const direct = (["PRODUCTS", "INVENTORY", "SEARCH", "ORDERS"] as const)
      .map((name) => `${name.toLowerCase()}=http://127.0.0.1:${ports[name]}`)
      .join(",");
    const args = ["run", "contract", "--", "--base-url", gatewayUrl, "--key", lineAfter("Operator API key") ?? ""];
    args.push("--direct", direct, "--nats-url", `nats://127.0.0.1:${ports.NATS}`);
    const contract = await run("npm", args, { cwd: root, env: freshEnv({}), maxBuffer: 64 * 1024 * 1024 }).catch(
      (err: { stdout?: string; stderr?: string }) => err,
    );
    // The coverage it prints: every kind of case at 100%, none missing.
    const output = `${contract.stdout ?? ""}${contract.stderr ?? ""}`;
    const total = output.slice(output.lastIndexOf("contract coverage (all services):"));
    const coverage = [...total.matchAll(/^\s+(\w+)\s+(\d+)\/(\d+)$/gm)];
    expect(coverage.length, output.slice(-4000)).toBe(6);
    for (const [, kind, covered, expected] of coverage) expect(`${kind} ${covered}`).toBe(`${kind} ${expected}`);
    expect(output).toMatch(/\b0 failed\b/);
  }, 300_000);

  it("stops every process it started, servers included, when npm itself gets SIGTERM", async () => {
    startedPids = [npm.pid ?? 0, ...descendantsOf(npm.pid ?? 0)];
    // npm, the launcher, 6 services, Vite, PGlite, nats-server, redis-server, the watchdog (and helpers of tsx/Vite).
    expect(startedPids.length).toBeGreaterThanOrEqual(13);
    const exited = once(npm, "exit");
    npm.kill("SIGTERM");
    await exited;
    await waitFor(async () => startedPids.every((pid) => !isRunning(pid)), 45_000, "every started process gone");
    for (const [name, port] of Object.entries(ports)) expect(await answers(port), `${name} port ${port}`).toBe(false);
  }, 60_000);
});

describe("npm start without a server binary", () => {
  it("names the install commands and docker compose, and starts nothing", async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), "shop-no-binaries-"));
    try {
      // An empty PATH leaves only the sbin folders the launcher also looks in.
      const missing = ["nats-server", "redis-server"].filter((name) => findExecutable(name, emptyDir) === undefined);
      if (missing.length === 0) return;
      const ports = await freePorts(["POSTGRES", "NATS", "REDIS", "PRODUCTS", "INVENTORY"] as const);
      const launcher = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "start-stack.ts")], {
        cwd: root,
        env: freshEnv({
          PATH: emptyDir,
          SHOP_DATA_DIR: join(emptyDir, "data"),
          SHOP_SERVICES: "products,inventory",
          ...portEnv(ports),
        }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      launcher.stderr?.on("data", (chunk) => {
        stderr += chunk;
      });
      const [code] = (await once(launcher, "exit")) as [number];
      expect(code).toBe(1);
      const apt = { "nats-server": "nats-server", "redis-server": "redis-server" } as const;
      const brew = { "nats-server": "nats-server", "redis-server": "redis" } as const;
      const names = missing as Array<keyof typeof apt>;
      expect(stderr).toContain(`sudo apt-get install ${names.map((name) => apt[name]).join(" ")}`);
      expect(stderr).toContain(`brew install ${names.map((name) => brew[name]).join(" ")}`);
      expect(stderr).toContain("docker compose up");
      // Every binary is looked for before anything starts: not even the embedded database.
      expect(existsSync(join(emptyDir, "data", "postgres"))).toBe(false);
      for (const port of Object.values(ports)) expect(await answers(port)).toBe(false);
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  }, 60_000);
});
