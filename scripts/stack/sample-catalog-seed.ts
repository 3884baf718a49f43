// A first `npm start` leaves a shop with something in it: a seller API key (created with the operator key, kept in
// the data directory) and examples/sample-catalog.csv imported as that seller, with its stock, by the CLI's own
// `shop products import` — the command the README shows, so the seed and a person's import are one code path.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { createShopClient } from "@shop/sdk";
import type { ChildSupervisor } from "./child-supervisor.js";
import { repoRoot } from "./stack-services.js";

export interface SeedOptions {
  dataDir: string;
  gatewayUrl: string;
  operatorKey: string;
}

export interface Seed {
  sellerKey: string;
  /** Where the seller key is kept. */
  sellerKeyPath: string;
  /** What this start imported ("1200 rows: …"); undefined when an earlier start did it. */
  imported: string | undefined;
}

export const sampleCatalog = join(repoRoot, "examples", "sample-catalog.csv");

/** Whether the gateway accepts the key as a seller's, i.e. the identity stream has reached it. */
async function knownAsSeller(gatewayUrl: string, key: string): Promise<boolean> {
  try {
    const who = await createShopClient({ baseUrl: gatewayUrl, credential: key }).identity.whoAmI({});
    return who.role === Role.SELLER;
  } catch (err) {
    if (ConnectError.from(err).code === Code.Unauthenticated) return false;
    throw err;
  }
}

async function waitUntilKnown(gatewayUrl: string, key: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await knownAsSeller(gatewayUrl, key)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The sample seller's key: the one kept in the data directory if the platform still knows it (a database reset
 * outside the data directory forgets it), else a new one, created with the operator key.
 */
async function sellerKey(options: SeedOptions, path: string): Promise<string> {
  if (existsSync(path)) {
    const kept = readFileSync(path, "utf8").trim();
    if (await waitUntilKnown(options.gatewayUrl, kept, 5_000)) return kept;
  }
  const operator = createShopClient({ baseUrl: options.gatewayUrl, credential: options.operatorKey });
  const { secret } = await operator.identity.createApiKey({ displayName: "Sample seller", role: Role.SELLER });
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  // Every service learns a new key from the IDENTITY stream, the gateway a moment after products.
  if (!(await waitUntilKnown(options.gatewayUrl, secret, 30_000)))
    throw new Error("the gateway did not learn the new seller key within 30 s");
  return secret;
}

/** Creates the seller key and imports the sample catalog, each once per data directory. */
export async function seedSampleCatalog(supervisor: ChildSupervisor, options: SeedOptions): Promise<Seed> {
  const sellerKeyPath = join(options.dataDir, "seller-key");
  const key = await sellerKey(options, sellerKeyPath);
  const marker = join(options.dataDir, "sample-catalog-imported");
  if (existsSync(marker)) return { sellerKey: key, sellerKeyPath, imported: undefined };

  const shop = join(repoRoot, "cli", "bin", "shop.js");
  const { code, stdout } = await supervisor.run("seed", process.execPath, [shop, "products", "import", sampleCatalog], {
    env: {
      ...process.env,
      SHOP_ENDPOINT: options.gatewayUrl,
      SHOP_API_KEY: key,
      // A config file that never exists: the person's own `shop login` plays no part.
      SHOP_CONFIG: join(options.dataDir, "seed-cli-config.json"),
    },
  });
  const summary = stdout.trim().split("\n").at(-1) ?? "";
  // A failed row (e.g. its SKU taken by another seller in a database kept elsewhere) is reported, not retried.
  if (code !== 0 && !/^\d+ rows: /.test(summary)) throw new Error(`importing the sample catalog failed (exit ${code})`);
  writeFileSync(marker, `${summary}\n`);
  return { sellerKey: key, sellerKeyPath, imported: summary };
}
