// Products: a product create over Connect, end to end until its event is in JetStream (service, Postgres transaction
// with the outbox row, relay publishing), vs the raw path measured in the same run: one `pg` transaction inserting the
// same product row and outbox row, then a raw `js.publish`. Also: importing 100k products with `shop products import`.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { ProductCreatedSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import { ProductSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import { eventSubject, newEventMeta } from "@shop/platform";
import { startProductsHarness } from "@shop/products/testing";
import { type Comparison, measure, report } from "./harness.js";

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
  const h = await startProductsHarness();
  const relay = h.startRelay();
  const namespace = h.env.namespace;

  // Events as the relay publishes them, by product id: an end-to-end op completes when its ProductCreated is on the
  // wire. (A core subscription, since NATS 2.9 has no filtered ordered consumers; JetStream acks the relay's publish
  // only once it is stored.)
  const waiting = new Map<string, () => void>();
  const arrived = new Set<string>();
  const subscription = h.nats.subscribe(`${namespace}.shop.products.product.>`);
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

  const subject = await measure({
    label: "CreateProduct over Connect → event in JetStream",
    op: async () => {
      const product = await h.seller.createProduct({ product: productInit(randomUUID()) });
      await published(product.id);
    },
  });

  const baseline = await measure({
    label: "raw pg transaction (product + outbox row) + js.publish",
    op: async () => {
      const id = `raw_${randomUUID()}`;
      const product = create(ProductSchema, { ...productInit(id), id, revision: 1n });
      const event = create(ProductCreatedSchema, { meta: newEventMeta(id, 1), product });
      const data = toBinary(ProductCreatedSchema, event);
      const subjectName = eventSubject(ProductCreatedSchema, event, namespace);
      const client = await h.database.pool.connect();
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
      await h.js.publish(subjectName, data, { msgID: event.meta?.eventId });
    },
  });
  const comparisons: Comparison[] = [{ name: "create", subject, baseline }];

  const dir = mkdtempSync(join(tmpdir(), "shop-bench-import-"));
  const file = join(dir, "catalog.csv");
  await writeCatalog(file, importRows);
  const started = performance.now();
  const summary = await runImport(file, h.server.url, h.server.keys.seller);
  const importSeconds = (performance.now() - started) / 1000;
  const drainStarted = performance.now();
  while ((await h.outboxCounts()).unpublished > 0) await new Promise((resolve) => setTimeout(resolve, 50));
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
  await relay.stop();
  await h.cleanup();
}
