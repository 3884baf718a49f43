// The SDK as a storefront team gets it: `npm pack` of @shop/sdk and @shop/contracts, installed into an empty project
// outside the workspace, type-checked under `tsc --strict`, run against a real search service, and bundled for the
// browser without NATS.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { createLogger, createPlatform } from "@shop/platform";
import { type ProductsHarness, type RunningRelay, startProductsHarness } from "@shop/products/testing";
import { createSearch, loadSearchConfig, type Search } from "@shop/search";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const esbuild = join(root, "node_modules", ".bin", "esbuild");

/** Runs a command the way a person would in a shell, without the npm_* settings of the `npm test` around us. */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))),
    NPM_CONFIG_UPDATE_NOTIFIER: "false",
  };
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd, env, timeout: 120_000 });
    return stdout;
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

/**
 * The registry packages the tarballs need, read from their manifests. npm's cache holds their tarballs but not the
 * registry metadata an offline install resolves names with, so each is packed from the workspace's installed copy.
 */
function runtimeDependencies(): string[] {
  const manifest = (dir: string) =>
    JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  const found = new Set<string>();
  const visit = (dir: string) => {
    for (const name of Object.keys(manifest(dir).dependencies ?? {})) {
      if (name.startsWith("@shop/") || found.has(name)) continue;
      found.add(name);
      visit(join(root, "node_modules", name));
    }
  };
  visit(join(root, "sdk"));
  visit(join(root, "gen"));
  return [...found].map((name) => join(root, "node_modules", name));
}

let h: ProductsHarness;
let relay: RunningRelay;
let search: Search;
let searchUrl = "";
let work = "";

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "shop-sdk-package-"));
  h = await startProductsHarness();
  relay = await h.startRelay();
  const config = loadSearchConfig({ ...h.env.serviceEnv, SHOP_PORT: "0", SHOP_SEARCH_CONSUMER: "sdk-package-e2e" });
  const platform = await createPlatform("search", config, { logger: createLogger("search", "silent") });
  search = await createSearch(platform, config);
  searchUrl = (await search.start()).url;
  await search.ready;
  await h.seller.createProduct({
    product: {
      title: "Packed Stoneware Mug",
      description: "Found through the packed SDK.",
      price: { currencyCode: "EUR", amountMinor: 1450n },
      variants: [{ sku: "PACKED-MUG-1", title: "Default" }],
    },
  });
}, 120_000);

afterAll(async () => {
  await search?.stop();
  await relay?.stop();
  await h?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

const storefront = (baseUrl: string) => `
import { Code, ConnectError, createShopClient, formatMoney, type ShopClient } from "@shop/sdk";
import { type SearchProductsResponse, SortOrder } from "@shop/contracts/shop/search/v1/search_service_pb.js";

const shop: ShopClient = createShopClient({ baseUrl: ${JSON.stringify(baseUrl)}, protocol: "connect" });
const grpcWeb = createShopClient({ baseUrl: ${JSON.stringify(baseUrl)}, protocol: "grpc-web", timeoutMs: 5_000 });

async function until(find: () => Promise<SearchProductsResponse>): Promise<SearchProductsResponse> {
  for (let tries = 0; ; tries++) {
    const found = await find();
    if (found.hits.length > 0 || tries > 200) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const found = await until(() => shop.search.searchProducts({ query: "stoneware", sort: SortOrder.RELEVANCE }));
const again = await grpcWeb.search.searchProducts({ query: "stoneware" });
let missing = "";
try {
  await shop.search.getProduct({ id: "prd_missing" });
} catch (err) {
  if (err instanceof ConnectError) missing = Code[err.code];
}
console.log(JSON.stringify({
  hits: found.hits.map((hit) => \`\${hit.product?.title} \${formatMoney(hit.product?.price)}\`),
  grpcWebHits: again.hits.length,
  missing,
}));
`;

describe("the packed SDK", () => {
  it("installs into an empty project offline, type-checks strictly, searches, and bundles for browsers without NATS", async () => {
    const tarballs = join(work, "tarballs");
    const project = join(work, "storefront");
    mkdirSync(tarballs);
    mkdirSync(project);

    // prepack builds sdk/dist, so this is the tarball `npm publish` would upload.
    const packed = JSON.parse(
      await run("npm", ["pack", "--offline", "--json", "--pack-destination", tarballs, "-w", "sdk", "-w", "gen"], root),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const sdkFiles = packed.find((p) => p.filename.startsWith("shop-sdk-"))?.files.map((f) => f.path) ?? [];
    expect(sdkFiles).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "dist/events.js"]));
    expect(sdkFiles.filter((path) => path.startsWith("src/") || path.includes(".test."))).toEqual([]);
    await run(
      "npm",
      ["pack", "--offline", "--ignore-scripts", "--pack-destination", tarballs, ...runtimeDependencies()],
      root,
    );

    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "storefront", private: true, type: "module" }));
    const files = readdirSync(tarballs).filter((name) => name.endsWith(".tgz"));
    await run(
      "npm",
      ["install", "--offline", "--no-audit", "--no-fund", ...files.map((f) => join(tarballs, f))],
      project,
    );
    // NATS is an optional peer of the SDK, for integrators: a storefront's install has none of it.
    expect(existsSync(join(project, "node_modules", "@nats-io"))).toBe(false);

    writeFileSync(join(project, "main.ts"), storefront(searchUrl));
    const tsconfig = {
      compilerOptions: {
        strict: true,
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2023", "DOM"],
        types: [],
        skipLibCheck: false,
        outDir: "out",
      },
      files: ["main.ts"],
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
    // Strict, with every .d.ts checked (ours and our dependencies'); and as a bundler project (Vite) resolves it.
    const asBundler = ["--module", "ESNext", "--moduleResolution", "Bundler", "--skipLibCheck", "--noEmit"];
    await Promise.all([
      run(process.execPath, [tsc, "-p", ".", "--strict"], project),
      run(process.execPath, [tsc, "-p", ".", "--strict", ...asBundler], project),
    ]);

    const result = JSON.parse(await run(process.execPath, [join("out", "main.js")], project));
    expect(result).toEqual({ hits: ["Packed Stoneware Mug 14.50 EUR"], grpcWebHits: 1, missing: "NotFound" });

    await run(
      esbuild,
      [
        "main.ts",
        "--bundle",
        "--minify",
        "--format=esm",
        "--platform=browser",
        "--outfile=bundle.js",
        "--metafile=meta.json",
      ],
      project,
    );
    const inputs = Object.keys(
      (JSON.parse(readFileSync(join(project, "meta.json"), "utf8")) as { inputs: object }).inputs,
    );
    expect(inputs.filter((path) => /@nats-io|event-subscription|event-wire/.test(path))).toEqual([]);
    const gzipped = gzipSync(readFileSync(join(project, "bundle.js"))).length;
    console.log(`storefront bundle with the packed SDK: ${(gzipped / 1024).toFixed(1)} KiB min+gzip`);
  }, 240_000);
});
