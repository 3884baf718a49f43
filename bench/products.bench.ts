// Products: a product create over Connect, end to end until its event is in JetStream — bench client → the products
// process (as `npm start` runs it: platform chain, Postgres transaction with the outbox row, its relay publishing) —
// vs the raw path measured in the same run: one `pg` transaction inserting the same product row and outbox row, then a
// raw `js.publish`. Also: importing 100k products with `shop products import`.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ProductCreatedSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import { ProductSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { eventSubject, generateApiKey, newEventMeta } from "@shop/platform";
import { clientFor, createTestEnv } from "@shop/platform/testing";
import pg from "pg";
import { type Comparison, measure, report } from "./harness.js";
import { startServiceProcess } from "./service-process.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const importRows = Number(process.env.SHOP_BENCH_IMPORT_ROWS ?? 100_000);

const productInit = (n: string) => ({
  title: `Bench mug ${n}`,
  description: "Stoneware, 350 ml, dishwasher safe.",
  price: { currencyCode: "EUR", amountMinor: 1250n },
  variants: [{ sku: `BENCH-${n}` }],
  tags: ["kitchen", "bench"],
});

/** Writes a CSV catalog of `rows` products, streamed to disk. */
async function writeCatalog(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write("title,sku,price,currency,stock,tags,description,attr.material\n");
  for (let i = 0; i < rows; i++) {
    const line = `"Imported mug ${i}, blue",IMP-${i},${(i % 90) + 5}.${String(i % 100).padStart(2, "0")},EUR,${i % 50},kitchen;imported,"Stoneware mug number ${i}, glazed by hand.",stoneware\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

function runImport(
  file: string,
  endpoint: string,
  key: string,
): Promise<{ rows: number; seconds: number; failed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "cli", "bin", "shop.js"), "products", "import", file, "--json"], {
      env: {
        ...process.env,
        SHOP_ENDPOINT: endpoint,
        SHOP_API_KEY: key,
        SHOP_CONFIG: join(tmpdir(), "shop-bench-none.json"),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`import exited ${code}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

export default async function productsBench(): Promise<void> {
  const env = await createTestEnv();
  const namespace = env.namespace;
  const sellerKey = generateApiKey(Role.SELLER).secret;
  // Its relay runs inside (main.ts), and it migrates the schema and provisions the streams before it is ready.
  const products = await startServiceProcess("products", {
    ...env.serviceEnv,
    SHOP_STATIC_API_KEYS: `seller:${sellerKey}`,
  });
  const seller = clientFor(ProductService, products.url, { credential: sellerKey });
  // The raw baseline's own connections: one per client in flight (16), so the pool never queues it.
  const pool = new pg.Pool({ connectionString: env.postgresSchemaUrl, max: 16 });
  // As the platform connects: without async traces, which cost two stack captures per publish.
  const nats = await connect({ servers: env.natsUrl, noAsyncTraces: true });
  const js = jetstream(nats);
  const unpublished = async () => {
    const { rows } = await pool.query<{ n: string }>("select count(*) as n from outbox where publish_time is null");
    return Number(rows[0]?.n);
  };

  // Events as the relay publishes them, by product id: an end-to-end op completes when its ProductCreated is on the
  // wire. (A core subscription, since NATS 2.9 has no filtered ordered consumers; JetStream acks the relay's publish
  // only once it is stored.)
  const waiting = new Map<string, () => void>();
  const arrived = new Set<string>();
  const subscription = nats.subscribe(`${namespace}.shop.products.product.>`);
  void (async () => {
    for await (const msg of subscription) {
      const id = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
      const resolve = waiting.get(id);
      if (resolve) {
        waiting.delete(id);
        resolve();
      } else arrived.add(id);
    }
  })();
  const published = (id: string) =>
    arrived.delete(id)
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          waiting.set(id, resolve);
        });

  // The service process starts cold: its JIT (and this process's client) need about 5 s of creates to reach the steady
  // state a long-running service is in, so both paths warm up that long unless SHOP_BENCH_WARMUP_MS says otherwise.
  const warmupMs = Number(process.env.SHOP_BENCH_WARMUP_MS ?? 5_000);
  const subject = await measure({
    label: "CreateProduct over Connect → event in JetStream",
    warmupMs,
    op: async () => {
      const product = await seller.createProduct({ product: productInit(randomUUID()) });
      await published(product.id);
    },
  });

  const baseline = await measure({
    label: "raw pg transaction (product + outbox row) + js.publish",
    warmupMs,
    op: async () => {
      const id = `raw_${randomUUID()}`;
      const product = create(ProductSchema, { ...productInit(id), id, revision: 1n });
      const event = create(ProductCreatedSchema, { meta: newEventMeta(id, 1), product });
      const data = toBinary(ProductCreatedSchema, event);
      const subjectName = eventSubject(ProductCreatedSchema, event, namespace);
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query(
          "insert into products (id, status, revision, doc, create_time, update_time) values ($1, 'active', 1, $2, now(), now())",
          [id, JSON.stringify(toJson(ProductSchema, product))],
        );
        await client.query(
          `insert into outbox (event_id, aggregate_id, aggregate_version, subject, type_name, data, publish_time)
           values ($1, $2, 1, $3, $4, $5, now())`,
          [event.meta?.eventId, id, subjectName, ProductCreatedSchema.typeName, data],
        );
        await client.query("commit");
      } finally {
        client.release();
      }
      await js.publish(subjectName, data, { msgID: event.meta?.eventId });
    },
  });
  const comparisons: Comparison[] = [{ name: "create", subject, baseline }];

  const dir = mkdtempSync(join(tmpdir(), "shop-bench-import-"));
  const file = join(dir, "catalog.csv");
  await writeCatalog(file, importRows);
  const started = performance.now();
  const summary = await runImport(file, products.url, sellerKey);
  const importSeconds = (performance.now() - started) / 1000;
  const drainStarted = performance.now();
  while ((await unpublished()) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  rmSync(dir, { recursive: true, force: true });

  report({
    benchmark: "products",
    comparisons,
    extra: {
      "import rows": summary.rows,
      "import failed rows": summary.failed,
      "import rows/s (shop products import, whole command)": summary.rows / importSeconds,
      "import rows/s (reading + sending, as the CLI reports it)": summary.rows / summary.seconds,
      "relay still publishing after the import, s": drainSeconds,
    },
  });

  subscription.unsubscribe();
  await products.stop();
  await nats.close();
  await pool.end();
  await env.cleanup();
}
