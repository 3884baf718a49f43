// The CLI as a seller installs it: `npm pack -w cli`, a global install of the tarball into an empty prefix with no
// network and an empty npm cache, and `shop` from there, outside the checkout, against a products service behind a
// gateway. Anything the bundle failed to carry (a workspace package, a registry dependency, tsx) fails the install or
// the first command.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { createGateway, type Gateway, loadGatewayConfig } from "@shop/gateway";
import { createPlatform, generateApiKey } from "@shop/platform";
import { createTestEnv, type TestEnv } from "@shop/platform/testing";
import { startProductsInstance } from "@shop/products/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const cliManifestPath = join(root, "cli", "package.json");
const sellerKey = generateApiKey(Role.SELLER).secret;

let dir: string;
let prefix: string;
let home: string;
let env: TestEnv;
let stopProducts: (() => Promise<void>) | undefined;
let gateway: Gateway | undefined;
let gatewayUrl: string;

/** A clean environment: this test's HOME and npm cache, node first on PATH, nothing inherited from `npm test`. */
function isolatedEnv(): Record<string, string> {
  return {
    PATH: [dirname(process.execPath), process.env.PATH ?? ""].join(delimiter),
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    npm_config_cache: join(dir, "npm-cache"),
  };
}

/** Runs the installed `shop`, from outside the checkout; returns its exit code and output. */
async function shop(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(join(prefix, "bin", "shop"), args, { cwd: home, env: isolatedEnv() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "shop-cli-package-"));
  prefix = join(dir, "prefix");
  home = join(dir, "home");
  mkdirSync(home);
  const workspaceManifest = readFileSync(cliManifestPath, "utf8");
  // `npm pack` runs `prepare` (the build) and swaps in the packed manifest for the duration of the pack.
  await run("npm", ["pack", "--workspace", "cli", "--pack-destination", dir], { cwd: root, env: isolatedEnv() });
  expect(readFileSync(cliManifestPath, "utf8")).toBe(workspaceManifest);
  const tarball = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball to ${dir}`);
  await run(
    "npm",
    ["install", "--global", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, join(dir, tarball)],
    { cwd: dir, env: isolatedEnv() },
  );

  env = await createTestEnv();
  const staticKeys = { SHOP_STATIC_API_KEYS: `seller:${sellerKey}` };
  const { products } = await startProductsInstance(env, { env: staticKeys });
  stopProducts = () => products.stop();
  const productsUrl = (await products.start()).url;
  const config = loadGatewayConfig({ ...env.serviceEnv, ...staticKeys, SHOP_PORT: "0", SHOP_HOST: "127.0.0.1" });
  // Products also serves the identity domain (API keys, WhoAmI), as in a deployment.
  const upstreams = { products: productsUrl, identity: productsUrl };
  gateway = createGateway(await createPlatform("gateway", config), config, { upstreams });
  gatewayUrl = (await gateway.start()).url;
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await stopProducts?.();
  await env?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed shop CLI, installed globally", () => {
  it("installs as one self-contained package: the bundle and its launcher, no dependencies", () => {
    const installed = join(prefix, "lib", "node_modules", "@shop", "cli");
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest).not.toHaveProperty("dependencies");
    expect(manifest).not.toHaveProperty("private");
    expect(manifest.engines).toEqual({ node: ">=20" });
    expect(existsSync(join(installed, "node_modules"))).toBe(false);
    expect(existsSync(join(installed, "src"))).toBe(false);
    expect(readdirSync(join(installed, "dist")).sort()).toEqual(["THIRD-PARTY-NOTICES.txt", "shop.js"]);
  });

  it("prints its help and version", async () => {
    const help = await shop("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: shop /);
    for (const noun of ["login", "products", "stock", "orders", "search", "keys"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${noun}\\b`, "m"));
    }
    const version = await shop("--version");
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(cliManifestPath, "utf8")).version);
  });

  it("logs in through the gateway and keeps the key in its own config file", async () => {
    const login = await shop("login", "--endpoint", gatewayUrl, "--key", sellerKey);
    expect(login.stderr).toBe("");
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/logged in to .* as seller/);
    expect(statSync(join(home, ".config", "shop", "config.json")).mode & 0o777).toBe(0o600);
  });

  it("creates and lists products with the stored login", async () => {
    const created = await shop(
      ...["products", "create", "--title", "Packed mug", "--price", "9.90", "--currency", "EUR"],
      ...["--sku", "PACKED-1", "--json"],
    );
    expect(created.stderr).toBe("");
    const product = JSON.parse(created.stdout) as { id: string; price: { amountMinor: string } };
    expect(product.price.amountMinor).toBe("990");
    const listed = await shop("products", "list");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${product.id}\\s+Packed mug\\s+9\\.90 EUR\\s+PACKED-1`));
  });

  it("refuses a key the platform does not know, with exit code 2 and what to do next", async () => {
    const refused = await shop("login", "--key", generateApiKey(Role.SELLER).secret);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/\(Unauthenticated\)\nhint: run `shop login` with a valid API key/);
  });
});

describe("shop in a checkout", () => {
  const record = () =>
    JSON.parse(readFileSync(join(root, "cli", "dist", "shop.inputs.json"), "utf8")) as { builtAt: number };
  const version = async () => {
    const { stdout } = await run(process.execPath, [join(root, "cli", "bin", "shop.js"), "--version"], {
      cwd: root,
      env: isolatedEnv(),
    });
    return stdout.trim();
  };

  it("rebuilds a bundle that is older than a source it was built from, and only then", async () => {
    const expected = JSON.parse(readFileSync(cliManifestPath, "utf8")).version;
    // What saving a file does to its modification time; the pack above left a bundle built before it.
    const saved = new Date();
    utimesSync(join(root, "cli", "src", "output.ts"), saved, saved);
    expect(record().builtAt).toBeLessThan(saved.getTime());
    expect(await version()).toBe(expected);
    const rebuilt = record().builtAt;
    expect(rebuilt).toBeGreaterThanOrEqual(saved.getTime());
    expect(await version()).toBe(expected);
    expect(record().builtAt).toBe(rebuilt);
  });
});
