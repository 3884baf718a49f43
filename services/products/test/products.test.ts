import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { ProductCreatedSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import {
  type Product,
  ProductSchema,
  ProductStatus,
  VariantSchema,
} from "@shop/contracts/shop/products/v1/product_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { decodeEvent } from "@shop/platform";
import { createTestEnv, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreatePath, createDatabase, migrationFiles, runMigrations } from "../src/internal.js";
import { inParallel, type ProductsHarness, startProductsHarness } from "./support/products-harness.js";

let h: ProductsHarness;

let skuCounter = 0;
const uniqueSku = (prefix = "SKU") => `${prefix}-${process.pid}-${++skuCounter}`;

type ProductInit = Exclude<MessageInitShape<typeof ProductSchema>, { $typeName: string }>;

const mug = (overrides: ProductInit = {}) =>
  create(ProductSchema, {
    title: "Stoneware mug",
    description: "Holds 350 ml.",
    price: { currencyCode: "EUR", amountMinor: 1250n },
    variants: [{ sku: uniqueSku("MUG") }],
    tags: ["kitchen"],
    ...overrides,
  });

async function errorOf(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

/**
 * Runs `call` while the outbox refuses any event whose bytes contain `marker` (a check constraint), so a write fails
 * after its product row and before its events: the point where a write that is not atomic would leave half behind.
 */
async function withOutboxRefusing<T>(marker: string, call: () => Promise<T>): Promise<T> {
  const bytes = `\\x${Buffer.from(marker).toString("hex")}`;
  await h.database.pool.query(
    `alter table outbox add constraint refuse_marked_events check (position('${bytes}'::bytea in data) = 0) not valid`,
  );
  try {
    return await call();
  } finally {
    await h.database.pool.query("alter table outbox drop constraint refuse_marked_events");
  }
}

async function tableCounts() {
  const { rows } = await h.database.pool.query<{ products: string; outbox: string; skus: string }>(
    `select (select count(*) from products) as products, (select count(*) from outbox) as outbox,
            (select count(*) from product_skus) as skus`,
  );
  return rows[0];
}

// One suite over both ways a create is written, as search runs one suite over its two backends: the single statement
// (with the transaction for what it cannot say) and the transaction alone must keep the same rules.
const createPaths: CreatePath[] = ["one-statement", "transaction"];

describe.each(createPaths)("creating through %s", (createPath) => {
  beforeAll(async () => {
    h = await startProductsHarness({ createPath });
  });
  afterAll(() => h?.cleanup());

  describe("products", () => {
    it("creates a product with its initial stock and reads it back", async () => {
      const product = mug();
      const sku = product.variants[0]?.sku as string;
      const created = await h.seller.createProduct({ product, initialStock: [{ sku, quantity: 40n }] });
      expect(created.id).toMatch(/^prd_/);
      expect(created.revision).toBe(1n);
      expect(created.status).toBe(ProductStatus.ACTIVE);
      expect(created.price?.amountMinor).toBe(1250n);
      expect(await h.seller.getProduct({ id: created.id })).toEqual(created);
      const { levels } = await h.seller.getStockLevels({ skus: [sku, "NOPE-1"] });
      expect(levels.map((l) => [l.sku, l.quantity])).toEqual([[sku, 40n]]);
    });

    it("writes each product and its events in one transaction: both or neither", async () => {
      const product = mug({ title: `Atomic ${uniqueSku("MUG")}` });
      const sku = product.variants[0]?.sku as string;
      const request = { product, initialStock: [{ sku, quantity: 3n }] };
      const before = await tableCounts();
      // The outbox refuses the product's events, after its row was written: nothing of the product may remain.
      const err = await withOutboxRefusing(product.title, () => errorOf(h.seller.createProduct(request)));
      expect(err.code).toBe(Code.Internal);
      expect(await tableCounts()).toEqual(before);
      expect(
        (await h.database.pool.query("select from products where doc->>'title' = $1", [product.title])).rows,
      ).toEqual([]);
      expect((await h.seller.getStockLevels({ skus: [sku] })).levels).toEqual([]);

      const created = await h.seller.createProduct(request);
      const { rows } = await h.database.pool.query<{ type_name: string; aggregate_id: string }>(
        "select type_name, aggregate_id from outbox order by id desc limit 2",
      );
      expect((await tableCounts())?.outbox).toBe(String(Number(before?.outbox) + 2));
      expect(rows.map((r) => [r.type_name, r.aggregate_id]).sort()).toEqual([
        ["shop.products.v1.ProductCreated", created.id],
        ["shop.products.v1.StockLevelSet", sku],
      ]);
    });

    it("returns the same product when a create is repeated with its request id", async () => {
      const product = mug();
      const first = await h.seller.createProduct({ product, requestId: "retry-1" });
      const again = await h.seller.createProduct({ product, requestId: "retry-1" });
      expect(again.id).toBe(first.id);
    });

    it("refuses a SKU another product has", async () => {
      const product = mug();
      await h.seller.createProduct({ product });
      const err = await errorOf(h.seller.createProduct({ product: mug({ variants: product.variants }) }));
      expect(err.code).toBe(Code.AlreadyExists);
      expect(err.rawMessage).toMatch(/SKU ".*" already belongs to product prd_/);
    });

    it("lists newest first with page tokens and a total", async () => {
      const created: string[] = [];
      for (let i = 0; i < 5; i++)
        created.push((await h.seller.createProduct({ product: mug({ title: `List ${i}` }) })).id);
      const first = await h.seller.listProducts({ pageSize: 3 });
      expect(first.products.map((p) => p.id)).toEqual(created.slice(-3).reverse());
      expect(first.totalSize).toBeGreaterThanOrEqual(5n);
      const second = await h.seller.listProducts({ pageSize: 2, pageToken: first.nextPageToken });
      expect(second.products.map((p) => p.id)).toEqual([created[1], created[0]]);
      const wrong = await errorOf(
        h.seller.listProducts({ pageToken: first.nextPageToken, status: ProductStatus.ARCHIVED }),
      );
      expect(wrong.code).toBe(Code.InvalidArgument);
    });

    it("updates the masked fields, bumps the revision and reports what changed", async () => {
      const created = await h.seller.createProduct({ product: mug() });
      const updated = await h.seller.updateProduct({
        product: { ...created, title: "Big mug", description: "ignored: not in the mask" },
        updateMask: { paths: ["title"] },
      });
      expect(updated.title).toBe("Big mug");
      expect(updated.description).toBe(created.description);
      expect(updated.revision).toBe(2n);
      const unchanged = await h.seller.updateProduct({ product: updated, updateMask: { paths: ["title"] } });
      expect(unchanged.revision).toBe(2n);
    });

    it("records the seller who created a product, in its row and its events; an operator's product has none", async () => {
      // An API key secret is `sk_<key id>_<secret>`: the principal's subject is the key id.
      const sellerId = h.server.keys.seller.split("_")[1] as string;
      const created = await h.seller.createProduct({ product: mug({ sellerId: "someone-else" }) });
      expect(created.sellerId).toBe(sellerId);
      const updated = await h.seller.updateProduct({
        product: { ...created, title: "Renamed mug", sellerId: "someone-else" },
        updateMask: { paths: [] },
      });
      expect(updated.sellerId).toBe(sellerId);
      const byOperator = await h.client(ProductService, h.server.keys.operator).createProduct({ product: mug() });
      expect(byOperator.sellerId).toBe("");
      const { rows } = await h.database.pool.query<{ id: string; seller_id: string }>(
        "select id, seller_id from products where id = any($1) order by id",
        [[created.id, byOperator.id]],
      );
      expect(Object.fromEntries(rows.map((r) => [r.id, r.seller_id]))).toEqual({
        [created.id]: sellerId,
        [byOperator.id]: "",
      });
      const events = await h.database.pool.query<{ data: Buffer }>(
        "select data from outbox where aggregate_id = $1 and type_name like 'shop.products.v1.Product%' order by id",
        [created.id],
      );
      expect(events.rows).toHaveLength(2);
      for (const row of events.rows) {
        expect(decodeEvent(ProductCreatedSchema, row.data).product?.sellerId).toBe(sellerId);
      }
    });

    it("lets exactly one of two concurrent updates with the same revision win", async () => {
      const created = await h.seller.createProduct({ product: mug() });
      const attempts = await Promise.allSettled(
        ["Red mug", "Blue mug", "Green mug", "Black mug"].map((title) =>
          h.seller.updateProduct({ product: { ...created, title }, updateMask: { paths: ["title"] } }),
        ),
      );
      const won = attempts.filter((a) => a.status === "fulfilled");
      const lost = attempts.filter((a) => a.status === "rejected").map((a) => ConnectError.from(a.reason));
      expect(won).toHaveLength(1);
      expect(lost.map((e) => e.code)).toEqual([Code.Aborted, Code.Aborted, Code.Aborted]);
      expect(lost[0]?.rawMessage).toMatch(/get it again and reapply your change/);
      expect((await h.seller.getProduct({ id: created.id })).revision).toBe(2n);
    });

    it("moves SKUs when variants change: new ones are claimed, removed ones freed with stock 0", async () => {
      const created = await h.seller.createProduct({ product: mug() });
      const oldSku = created.variants[0]?.sku as string;
      await h.seller.setStock({ levels: [{ sku: oldSku, quantity: 9n }] });
      const newSku = uniqueSku("MUG-L");
      const updated = await h.seller.updateProduct({
        product: { ...created, variants: [create(VariantSchema, { sku: newSku, title: "Large" })] },
        updateMask: { paths: ["variants"] },
      });
      expect(updated.variants.map((v) => v.sku)).toEqual([newSku]);
      expect((await h.seller.getStockLevels({ skus: [oldSku] })).levels).toEqual([]);
      await h.seller.createProduct({ product: mug({ variants: [{ sku: oldSku }] }) });
    });

    it("keeps a SKU's stock versions rising when a new product takes it over with initial stock", async () => {
      const sku = uniqueSku("MUG");
      const first = await h.seller.createProduct({
        product: mug({ variants: [{ sku }] }),
        initialStock: [{ sku, quantity: 5n }],
      });
      await h.seller.updateProduct({
        product: { ...first, variants: [create(VariantSchema, { sku: uniqueSku("MUG") })] },
        updateMask: { paths: ["variants"] },
      });
      await h.seller.createProduct({ product: mug({ variants: [{ sku }] }), initialStock: [{ sku, quantity: 7n }] });
      const { rows } = await h.database.pool.query<{ aggregate_version: string }>(
        "select aggregate_version from outbox where type_name = 'shop.products.v1.StockLevelSet' and aggregate_id = $1 order by id",
        [sku],
      );
      expect(rows.map((row) => row.aggregate_version)).toEqual(["1", "2", "3"]);
      expect((await h.seller.getStockLevels({ skus: [sku] })).levels.map((l) => l.quantity)).toEqual([7n]);
    });

    it("refuses a product with one taken SKU as a whole, leaving its other SKUs free", async () => {
      const taken = (await h.seller.createProduct({ product: mug() })).variants[0]?.sku as string;
      const free = uniqueSku("MUG");
      const before = await tableCounts();
      const err = await errorOf(
        h.seller.createProduct({
          product: mug({ variants: [{ sku: free }, { sku: taken }] }),
          initialStock: [{ sku: free, quantity: 1n }],
        }),
      );
      expect(err.code).toBe(Code.AlreadyExists);
      expect(err.rawMessage).toMatch(/variants\[1\]\.sku|SKU ".*" already belongs/);
      expect(await tableCounts()).toEqual(before);
      expect((await h.seller.getStockLevels({ skus: [free] })).levels).toEqual([]);
      await h.seller.createProduct({ product: mug({ variants: [{ sku: free }] }) });
    });

    it("gives concurrent creates with one request id one product", async () => {
      const product = mug();
      const created = await inParallel(4, 4, () => h.seller.createProduct({ product, requestId: "race-1" }));
      expect(new Set(created.map((p) => p.id)).size).toBe(1);
    });

    it("archives instead of deleting, and refuses changes to an archived product", async () => {
      const created = await h.seller.createProduct({ product: mug() });
      const archived = await h.seller.archiveProduct({ id: created.id });
      expect(archived.status).toBe(ProductStatus.ARCHIVED);
      expect((await h.seller.getProduct({ id: created.id })).status).toBe(ProductStatus.ARCHIVED);
      const listed = await h.seller.listProducts({ pageSize: 1000 });
      expect(listed.products.map((p) => p.id)).not.toContain(created.id);
      const err = await errorOf(h.seller.updateProduct({ product: { ...archived, title: "x" } }));
      expect(err.code).toBe(Code.FailedPrecondition);
      const stock = await h.seller.setStock({ levels: [{ sku: created.variants[0]?.sku as string, quantity: 0n }] });
      expect(stock.levels).toHaveLength(1);
    });
  });

  describe("bad input: a clear error, nothing written, no event", () => {
    const cases: Array<[string, () => Product, Code, RegExp]> = [
      ["an empty title", () => mug({ title: "" }), Code.InvalidArgument, /product\.title/],
      ["a blank title", () => mug({ title: "   " }), Code.InvalidArgument, /product\.title: must not be blank/],
      [
        "a negative price",
        () => mug({ price: { $typeName: "shop.common.v1.Money", currencyCode: "EUR", amountMinor: -1n } }),
        Code.InvalidArgument,
        /product\.price\.amount_minor/,
      ],
      [
        "an unknown currency",
        () => mug({ price: { $typeName: "shop.common.v1.Money", currencyCode: "XYZ", amountMinor: 100n } }),
        Code.InvalidArgument,
        /currency_code: "XYZ" is not an ISO 4217 currency code/,
      ],
      [
        "a description over 20,000 characters",
        () => mug({ description: "x".repeat(20_001) }),
        Code.InvalidArgument,
        /description/,
      ],
      [
        "an unknown collection",
        () => mug({ collectionIds: ["col_doesnotexist000"] }),
        Code.InvalidArgument,
        /no collection with id "col_doesnotexist000"/,
      ],
      ["no variant", () => mug({ variants: [] }), Code.InvalidArgument, /product\.variants/],
    ];
    for (const [name, product, code, message] of cases) {
      it(`refuses ${name}`, async () => {
        const before = await tableCounts();
        const err = await errorOf(h.seller.createProduct({ product: product() }));
        expect(err.code).toBe(code);
        expect(err.rawMessage).toMatch(message);
        expect(await tableCounts()).toEqual(before);
      });
    }

    it("refuses initial stock for a SKU the product does not have", async () => {
      const before = await tableCounts();
      const err = await errorOf(
        h.seller.createProduct({ product: mug(), initialStock: [{ sku: "OTHER-1", quantity: 1n }] }),
      );
      expect(err.rawMessage).toMatch(/^initial_stock\[0\]\.sku/);
      expect(await tableCounts()).toEqual(before);
    });

    it("refuses an update without the revision it read", async () => {
      const created = await h.seller.createProduct({ product: mug() });
      const err = await errorOf(h.seller.updateProduct({ product: { ...created, revision: 0n, title: "x" } }));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/send the revision you read/);
    });

    it("keeps writes to sellers and operators", async () => {
      const customer = h.client(ProductService, h.server.keys.customer);
      expect((await errorOf(customer.createProduct({ product: mug() }))).code).toBe(Code.PermissionDenied);
      expect((await errorOf(h.client(ProductService, "").listProducts({}))).code).toBe(Code.Unauthenticated);
    });
  });

  describe("batch create", () => {
    it("reports each item on its own and creates the good ones", async () => {
      const taken = mug();
      await h.seller.createProduct({ product: taken });
      const good = mug();
      const { results } = await h.seller.batchCreateProducts({
        requests: [
          { product: good, requestId: "batch-good" },
          { product: mug({ price: { $typeName: "shop.common.v1.Money", currencyCode: "ABC", amountMinor: 1n } }) },
          { product: mug({ variants: taken.variants }) },
          { product: mug({ variants: good.variants }) },
        ],
      });
      expect(results.map((r) => r.errorCode)).toEqual(["", "invalid_argument", "already_exists", "already_exists"]);
      expect(results[1]?.errorField).toBe("product.price.currency_code");
      expect(results[3]?.errorMessage).toMatch(/item 0 of this batch/);
      expect(results[0]?.product?.id).toMatch(/^prd_/);
      const again = await h.seller.batchCreateProducts({ requests: [{ product: good, requestId: "batch-good" }] });
      expect(again.results[0]?.replayed).toBe(true);
      expect(again.results[0]?.product?.id).toBe(results[0]?.product?.id);
    });
  });

  describe("collections", () => {
    it("creates, adds and removes products, keeping both sides and the count in step", async () => {
      const kitchen = await h.seller.createCollection({ collection: { title: "Kitchen & Dining", handle: "kitchen" } });
      const a = await h.seller.createProduct({ product: mug() });
      const b = await h.seller.createProduct({ product: mug({ collectionIds: [kitchen.id] }) });
      expect(b.collectionIds).toEqual([kitchen.id]);
      const afterAdd = await h.seller.addProductsToCollection({ collectionId: kitchen.id, productIds: [a.id, b.id] });
      expect(afterAdd.productCount).toBe(2n);
      expect((await h.seller.getProduct({ id: a.id })).collectionIds).toEqual([kitchen.id]);
      const listed = await h.seller.listProducts({ collectionId: kitchen.id });
      expect(listed.products.map((p) => p.id).sort()).toEqual([a.id, b.id].sort());
      const afterRemove = await h.seller.removeProductsFromCollection({ collectionId: kitchen.id, productIds: [a.id] });
      expect(afterRemove.productCount).toBe(1n);
      expect((await h.seller.getProduct({ id: a.id })).collectionIds).toEqual([]);
    });

    it("refuses a taken handle and a stale revision, and archives", async () => {
      const first = await h.seller.createCollection({ collection: { title: "Garden", handle: "garden" } });
      expect(
        (await errorOf(h.seller.createCollection({ collection: { title: "Garden 2", handle: "garden" } }))).code,
      ).toBe(Code.AlreadyExists);
      const renamed = await h.seller.updateCollection({
        collection: { ...first, title: "Garden & Patio" },
        updateMask: { paths: ["title"] },
      });
      expect(renamed.revision).toBe(2n);
      const stale = await errorOf(h.seller.updateCollection({ collection: { ...first, title: "Old" } }));
      expect(stale.code).toBe(Code.Aborted);
      const archived = await h.seller.archiveCollection({ id: first.id });
      expect(archived.archived).toBe(true);
      const { collections } = await h.seller.listCollections({});
      expect(collections.map((c) => c.id)).not.toContain(first.id);
    });
  });

  describe("stock", () => {
    it("sets levels per SKU and refuses unknown SKUs without writing", async () => {
      const created = await h.seller.createProduct({ product: mug() });
      const sku = created.variants[0]?.sku as string;
      await h.seller.setStock({ levels: [{ sku, quantity: 12n }] });
      expect((await h.seller.getStockLevels({ skus: [sku] })).levels[0]?.quantity).toBe(12n);
      const before = await tableCounts();
      const err = await errorOf(
        h.seller.setStock({
          levels: [
            { sku, quantity: 1n },
            { sku: "GHOST-1", quantity: 1n },
          ],
        }),
      );
      expect(err.code).toBe(Code.NotFound);
      expect(await tableCounts()).toEqual(before);
      expect((await h.seller.getStockLevels({ skus: [sku] })).levels[0]?.quantity).toBe(12n);
    });
  });

  describe("API keys", () => {
    it("creates a key shown once, stores only its hash, and revokes it", async () => {
      const operator = h.client(ApiKeyService, h.server.keys.operator);
      const { apiKey, secret } = await operator.createApiKey({ displayName: "Acme shop", role: Role.SELLER });
      expect(secret).toMatch(new RegExp(`^sk_${apiKey?.id}_`));
      const { rows } = await h.database.pool.query("select * from api_keys where id = $1", [apiKey?.id]);
      // The part after `sk_<id>_`: base64url, so it may itself contain "_".
      expect(JSON.stringify(rows)).not.toContain(secret.slice(`sk_${apiKey?.id}_`.length));
      const asNewSeller = h.client(ApiKeyService, secret);
      expect((await asNewSeller.whoAmI({})).role).toBe(Role.SELLER);
      await operator.revokeApiKey({ id: apiKey?.id as string });
      expect((await errorOf(h.client(ProductService, secret).listProducts({}))).code).toBe(Code.Unauthenticated);
      const { apiKeys } = await operator.listApiKeys({ includeRevoked: true });
      expect(apiKeys.find((k) => k.id === apiKey?.id)?.revokeTime).toBeDefined();
      expect((await errorOf(h.client(ApiKeyService, h.server.keys.seller).listApiKeys({}))).code).toBe(
        Code.PermissionDenied,
      );
    });
  });
});

describe("migrations", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(() => env?.cleanup());

  it("create the namespace's schema and apply each file once when replicas start together on it", async () => {
    const namespace = `${env.namespace}_fresh`;
    const fresh = createDatabase(env.postgresUrl, { poolSize: 4, namespace });
    try {
      expect(fresh.schema).toBe(namespace);
      const runs = await inParallel(4, 4, () => runMigrations(fresh));
      expect(runs.filter((applied) => applied.length > 0)).toEqual([await migrationFiles()]);
      const { rows } = await fresh.pool.query<{ table_schema: string }>(
        "select table_schema from information_schema.tables where table_name = 'outbox' and table_schema = $1",
        [namespace],
      );
      expect(rows).toHaveLength(1);
      expect(await runMigrations(fresh)).toEqual([]);
    } finally {
      await fresh.pool.query(`drop schema if exists "${namespace}" cascade`);
      await fresh.close();
    }
  });
});
