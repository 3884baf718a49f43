// Acceptance for issue 11's "two replicas of every stateless service": products, inventory, search, orders and the
// gateway each run twice, as separate processes on one Postgres schema, one Redis prefix and one NATS namespace, with
// one Stripe emulator. A client drives product creates, stock adjustments and checkouts through both gateways; then
// one replica of every service is killed with SIGKILL mid-load. Every event is stored once, the stock and payments
// add up exactly, and both search replicas (one of them restarted) answer the same.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import {
  type SearchProductsRequestSchema,
  SearchService,
  SortOrder,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { checkoutRequest } from "@shop/orders/internal";
import { contractStreams, generateApiKey } from "@shop/platform";
import {
  clientFor,
  createTestEnv,
  freePort,
  openTestJetStream,
  type TestEnv,
  type TestJetStream,
  waitFor,
} from "@shop/platform/testing";
import { inParallel } from "@shop/products/testing";
import { createShopClient, type ShopClient } from "@shop/sdk";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killHard,
  type ServiceProcess,
  spawnService,
  stackServiceEnv,
  stackServices,
  stopProcesses,
  waitUntilReady,
} from "../support/service-processes.js";
import { repeatedIds, storedEvents, tapEvents, type WireTap } from "../support/stream-events.js";

const productCount = 200;
const adjustCount = 100;
const checkoutCount = 40;
const checkoutSkus = ["SO-CHK-0", "SO-CHK-1"];
const checkoutStock = 100n;
/** The first third of the load runs with every replica up; the kill comes a third of the way through the rest. */
const phaseOneShare = 1 / 3;

const stripeKey = `sk_test_${randomBytes(12).toString("hex")}`;
const webhookSecret = `whsec_${randomBytes(12).toString("hex")}`;
const keys = {
  operator: generateApiKey(Role.OPERATOR),
  seller: generateApiKey(Role.SELLER),
  ordersService: generateApiKey(Role.SERVICE),
};

let env: TestEnv;
let jetstream: TestJetStream;
let mailOutboxDir: string;
const processes: ServiceProcess[] = [];
/** Replica "a" and "b" of each service, by service name. */
const replicas: Record<string, [ServiceProcess, ServiceProcess]> = {};

const productSku = (i: number) => `SO-P-${i}`;
const productTitle = (i: number) => (i % 2 === 0 ? `Scale Mug ${i}` : `Scale Lamp ${i}`);
const productPrice = (i: number) => 1_000n + BigInt(i) * 10n;
const adjustDelta = (i: number) => BigInt((i % 3) + 1);

/** Ports first, so each gateway and orders replica can be told where the others listen before anything starts. */
async function startReplicas(): Promise<void> {
  const ports: Record<string, [number, number]> = {};
  for (const service of stackServices) {
    ports[service] = [await freePort(), await freePort()];
  }
  const emulatorPort = await freePort();
  const list = (service: string) => (ports[service] as number[]).map((port) => `http://127.0.0.1:${port}`).join(",");
  const serviceEnv = stackServiceEnv({
    shared: {
      ...env.serviceEnv,
      SHOP_LOG_LEVEL: process.env.SHOP_LOG_LEVEL ?? "warn",
      SHOP_STATIC_API_KEYS: [
        `operator:${keys.operator.secret}`,
        `seller:${keys.seller.secret}`,
        `service:${keys.ordersService.secret}`,
      ].join(","),
    },
    upstream: list,
    orders: {
      serviceKey: keys.ordersService.secret,
      stripeKey,
      webhookSecret,
      stripeApiUrl: `http://127.0.0.1:${emulatorPort}`,
      mailOutboxDir,
      // An order a killed replica left halfway is settled by the other within seconds, not the default two minutes.
      extra: { SHOP_ORDERS_RECOVERY_AFTER_S: "5", SHOP_ORDERS_RECOVERY_INTERVAL_S: "1" },
    },
  });
  const emulator = spawnService("stripe-emulator", "stripe-emulator", emulatorPort, {
    SHOP_LOG_LEVEL: "warn",
    SHOP_STRIPE_EMULATOR_SECRET_KEY: stripeKey,
    // Both orders replicas receive every event, as two webhook endpoints: each payment must still be recorded once.
    SHOP_STRIPE_EMULATOR_WEBHOOKS: (ports.orders as number[])
      .map((port) => `${webhookSecret}@http://127.0.0.1:${port}/webhooks/stripe`)
      .join(","),
    SHOP_STRIPE_EMULATOR_WEBHOOK_RETRY_DELAYS_MS: "200,500,1000",
  });
  processes.push(emulator);
  for (const service of stackServices) {
    const [portA, portB] = ports[service] as [number, number];
    const envOf = serviceEnv[service];
    const pair: [ServiceProcess, ServiceProcess] = [
      spawnService(`${service}-a`, service, portA, envOf),
      spawnService(`${service}-b`, service, portB, envOf),
    ];
    replicas[service] = pair;
    processes.push(...pair);
  }
  // Nothing depends on start order: each service provisions what it needs, and the gateway needs no upstream to start.
  await Promise.all([...processes.map((p) => waitUntilReady(p))]);
}

beforeAll(async () => {
  env = await createTestEnv();
  jetstream = await openTestJetStream(env);
  mailOutboxDir = await mkdtemp(join(tmpdir(), "shop-scale-out-mail-"));
  try {
    await startReplicas();
  } catch (err) {
    await stopProcesses(processes);
    throw err;
  }
}, 150_000);

afterAll(async () => {
  await stopProcesses(processes);
  await jetstream?.close();
  await env?.cleanup();
  if (mailOutboxDir) await rm(mailOutboxDir, { recursive: true, force: true });
}, 60_000);

/** Calls that reached a service through a gateway and came back with its answer, counted per attempt. */
let answeredAttempts = 0;
const countAnswered: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    answeredAttempts++;
    return res;
  } catch (err) {
    if (ConnectError.from(err).code !== Code.Unavailable) answeredAttempts++;
    throw err;
  }
};

/**
 * A storefront or seller tool behind a load balancer: each attempt goes to the next gateway, and the SDK retries
 * `unavailable` with the same idempotency key, so a retry after a dead gateway reaches the live one.
 */
let gatewayTurn = 0;
const acrossGateways: typeof fetch = (input, init) => {
  const target = new URL(input instanceof Request ? input.url : String(input));
  const gateways = replicas.gateway as [ServiceProcess, ServiceProcess];
  target.host = new URL(gateways[gatewayTurn++ % gateways.length]?.url as string).host;
  return fetch(target, init);
};

function shopClient(credential?: string): ShopClient {
  return createShopClient({
    baseUrl: "http://gateways.invalid",
    credential,
    fetch: acrossGateways,
    retry: { maxAttempts: 40, initialDelayMs: 100, maxDelayMs: 1_000 },
    timeoutMs: 90_000,
    interceptors: [countAnswered],
  });
}

/** `gateway_upstream_attempts_total` of one gateway: count by upstream URL and outcome. */
async function upstreamAttempts(gateway: ServiceProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("gateway_upstream_attempts_total{")) continue;
    const upstream = /upstream="([^"]+)"/.exec(line)?.[1];
    const outcome = /outcome="([^"]+)"/.exec(line)?.[1];
    counts.set(`${upstream} ${outcome}`, Number(line.split(" ").pop()));
  }
  return counts;
}

const sumOf = (counts: Map<string, number>, outcome: string) =>
  [...counts].filter(([key]) => key.endsWith(` ${outcome}`)).reduce((sum, [, n]) => sum + n, 0);

type SearchRequest = MessageInitShape<typeof SearchProductsRequestSchema>;

/** Every hit of a search on one replica, page by page: product id and available stock, in result order. */
async function searchAll(url: string, request: SearchRequest) {
  const search = clientFor(SearchService, url);
  const hits: Array<{ id: string; available: bigint }> = [];
  let pageToken = "";
  let total = 0n;
  do {
    const page = await search.searchProducts({ ...request, pageSize: 100, pageToken });
    hits.push(...page.hits.map((hit) => ({ id: hit.product?.id ?? "", available: hit.product?.available ?? 0n })));
    total = page.totalSize;
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return { total, hits };
}

const convergenceQueries: Array<[string, SearchRequest]> = [
  ["everything, newest first", { sort: SortOrder.NEWEST }],
  ["text: lamp", { query: "lamp" }],
  [
    "price 15.00–20.00 EUR, cheapest first",
    {
      filter: { minPriceMinor: 1_500n, maxPriceMinor: 2_000n, currencyCode: "EUR" },
      sort: SortOrder.PRICE_ASC,
    },
  ],
  [
    "in stock, by title",
    {
      filter: { inStockOnly: true },
      sort: SortOrder.TITLE,
    },
  ],
];

describe("two replicas of every stateless service", () => {
  let tap: WireTap;
  const productIds = new Map<number, string>();
  const orderIds = new Map<number, string>();
  /** Checkouts placed while every replica ran: each must have come back paid. */
  const phaseOneOrders: number[] = [];
  /** The state each checkout's (last, retried) CreateOrder answered with. */
  const answeredState = new Map<number, OrderState>();
  let checkoutProductIds: string[] = [];
  let buyer: ShopClient;
  const seller = () => shopClient(keys.seller.secret);
  const operator = () => shopClient(keys.operator.secret);

  const createProduct = async (i: number) => {
    const product = await seller().products.createProduct({
      product: {
        title: productTitle(i),
        price: { currencyCode: "EUR", amountMinor: productPrice(i) },
        variants: [{ sku: productSku(i), title: "Default" }],
      },
      requestId: `so-product-${i}`,
    });
    productIds.set(i, product.id);
  };
  const adjust = (i: number) =>
    operator().inventory.adjust({
      sku: productSku(i),
      change: { case: "delta", value: adjustDelta(i) },
      reason: "scale-out restock",
      requestId: `so-adjust-${i}`,
    });
  /** A checkout; the SKU may not be priced yet by the replica that takes it (its catalog follows products' events). */
  const checkout = async (i: number) => {
    const sku = checkoutSkus[i % checkoutSkus.length] as string;
    for (let attempt = 1; ; attempt++) {
      try {
        const order = await buyer.orders.createOrder(checkoutRequest(`so-order-${i}`, sku, "scale@example.com"));
        orderIds.set(i, order.id);
        answeredState.set(i, order.state);
        if (order.state === OrderState.PAID && i < checkoutCount * phaseOneShare) phaseOneOrders.push(i);
        return;
      } catch (err) {
        const error = ConnectError.from(err);
        const notPricedYet = error.code === Code.FailedPrecondition && error.rawMessage.includes("is not on sale");
        if (!notPricedYet || attempt >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  /** Runs items [from, to) of each kind of load at once, four calls at a time per kind; `after` counts completions. */
  const runLoad = async (share: [number, number], after: () => void = () => undefined) => {
    const range = (count: number) => {
      const from = Math.round(count * share[0]);
      return { from, count: Math.round(count * share[1]) - from };
    };
    const run = async (count: number, call: (i: number) => Promise<unknown>) => {
      const { from, count: n } = range(count);
      await inParallel(n, 4, async (k) => {
        await call(from + k);
        after();
      });
    };
    await Promise.all([run(productCount, createProduct), run(adjustCount, adjust), run(checkoutCount, checkout)]);
  };

  it("serves through both gateways from both replicas, and relays every event once", async () => {
    const outboxStreams = contractStreams(env.namespace).filter((s) => /_(PRODUCTS|INVENTORY)$/.test(s.name));
    tap = await tapEvents(
      jetstream.nats,
      outboxStreams.flatMap((s) => s.subjects),
    );

    const checkoutProducts = await Promise.all(
      checkoutSkus.map((sku, k) =>
        seller().products.createProduct({
          product: {
            title: `Checkout Cup ${k}`,
            price: { currencyCode: "EUR", amountMinor: 990n },
            variants: [{ sku, title: "Default" }],
          },
          requestId: `so-checkout-product-${k}`,
        }),
      ),
    );
    checkoutProductIds = checkoutProducts.map((p) => p.id);
    for (const sku of checkoutSkus) {
      await operator().inventory.adjust({
        sku,
        change: { case: "setOnHand", value: checkoutStock },
        reason: "scale-out stock",
        requestId: `so-stock-${sku}`,
      });
    }
    const session = await shopClient().orders.startCustomerSession({ email: "scale@example.com" });
    buyer = shopClient(session.token);

    const before = await Promise.all((replicas.gateway as ServiceProcess[]).map(upstreamAttempts));
    const attemptsBefore = answeredAttempts;
    await runLoad([0, phaseOneShare]);
    const after = await Promise.all((replicas.gateway as ServiceProcess[]).map(upstreamAttempts));
    expect(phaseOneOrders.length, "phase-one checkouts answered PAID").toBe(orderIds.size);

    // Each gateway spread its calls over both replicas of every service it called, and forwarded each call once.
    for (const [g, counts] of after.entries()) {
      for (const service of ["products", "inventory", "orders"]) {
        for (const replica of replicas[service] as ServiceProcess[]) {
          expect(counts.get(`${replica.url} answered`) ?? 0, `gateway ${g} → ${replica.label}`).toBeGreaterThan(0);
        }
      }
      expect(sumOf(counts, "refused") + sumOf(counts, "failed"), `gateway ${g}: refused or failed`).toBe(0);
    }
    const forwarded = after.reduce(
      (sum, counts, g) => sum + sumOf(counts, "answered") - sumOf(before[g] ?? new Map(), "answered"),
      0,
    );
    expect(forwarded).toBe(answeredAttempts - attemptsBefore);

    // Both products relays and both inventory relays ran all along: none published an event twice, even where
    // JetStream's dedup would have dropped the repeat.
    const db = new pg.Client({ connectionString: env.postgresSchemaUrl });
    await db.connect();
    try {
      await waitFor(
        async () =>
          (await db.query("select count(*)::int as n from outbox where publish_time is null")).rows[0].n === 0,
        30_000,
        "the products outbox drained",
      );
    } finally {
      await db.end();
    }
    const productsStream = `${env.namespace}_PRODUCTS`;
    await waitFor(
      async () =>
        (await storedEvents(jetstream.nats, productsStream)).filter((e) => e.type === "ProductCreated").length ===
        productIds.size + checkoutSkus.length,
      30_000,
      "every phase-one ProductCreated stored",
    );
    const onWire = tap.seen();
    expect(onWire.length).toBeGreaterThanOrEqual(productIds.size + adjustCount * phaseOneShare);
    expect(repeatedIds(onWire), "event ids published twice by the outbox relays").toEqual([]);
  }, 120_000);

  it("loses and doubles nothing when one replica of every service is killed mid-load", async () => {
    let completed = 0;
    const total = productCount + adjustCount + checkoutCount;
    const killAt = Math.round(total * phaseOneShare + (total * (1 - phaseOneShare)) / 3);
    let killing: Promise<void> | undefined;
    const killed = ["products", "inventory", "search", "orders", "gateway"].map(
      (service) => (replicas[service] as [ServiceProcess, ServiceProcess])[1],
    );
    await runLoad([phaseOneShare, 1], () => {
      if (++completed + Math.round(total * phaseOneShare) === killAt) {
        killing = Promise.all(killed.map(killHard)).then(() => undefined);
      }
    });
    expect(killing, "the replicas were killed during the load").toBeDefined();
    await killing;

    expect(productIds.size).toBe(productCount);
    expect(orderIds.size).toBe(checkoutCount);
    // A checkout the kill interrupted is finished, not given up: the client's retry (same request id) resumes one that
    // stopped before its payment started on the surviving replicas (which take over the killed inventory's relay lease
    // before a reserve gives up waiting), and the webhook or recovery settles one whose payment was confirmed.
    const paid = new Set<string>();
    const cancelled = new Map<string, string>();
    let pending: string[] = [];
    await waitFor(
      async () => {
        pending = [];
        for (const [i, id] of orderIds) {
          if (paid.has(id) || cancelled.has(id)) continue;
          const order = await buyer.orders.getOrder({ id });
          if (order.state === OrderState.PAID) paid.add(id);
          else if (order.state === OrderState.CANCELLED) cancelled.set(id, order.cancelReason);
          else pending.push(`so-order-${i}: ${OrderState[order.state]}`);
        }
        return pending.length === 0;
      },
      90_000,
      "every order settled",
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${pending.join(", ")}`);
    });
    expect(paid.size + cancelled.size).toBe(checkoutCount);
    expect([...cancelled.values()], "checkouts cancelled instead of paid").toEqual([]);
    // Only a checkout whose answer said it was not through may end cancelled: none answered PAID is taken back.
    for (const [i, id] of orderIds) {
      if (answeredState.get(i) === OrderState.PAID) expect(paid.has(id), `so-order-${i} answered PAID`).toBe(true);
    }
    for (const i of phaseOneOrders) expect(paid.has(orderIds.get(i) as string), `so-order-${i}`).toBe(true);

    // The gateway left standing found the dead replicas refusing (or breaking off a call in flight) and sent the
    // calls that followed to the live ones.
    const standing = (replicas.gateway as ServiceProcess[])[0] as ServiceProcess;
    const levels = await operator().inventory.getStock({
      skus: [...checkoutSkus, ...Array.from({ length: adjustCount }, (_, i) => productSku(i))],
    });
    const counts = await upstreamAttempts(standing);
    for (const service of ["products", "inventory", "orders"]) {
      const dead = (replicas[service] as ServiceProcess[])[1] as ServiceProcess;
      const seen = (counts.get(`${dead.url} refused`) ?? 0) + (counts.get(`${dead.url} failed`) ?? 0);
      expect(seen, `${standing.label} saw ${dead.label} down`).toBeGreaterThan(0);
    }

    // Stock: each adjustment applied once, each paid order took one unit, nothing left reserved.
    const bySku = new Map(levels.levels.map((level) => [level.sku, level]));
    for (let i = 0; i < adjustCount; i++) {
      expect({ sku: productSku(i), onHand: bySku.get(productSku(i))?.onHand }).toEqual({
        sku: productSku(i),
        onHand: adjustDelta(i),
      });
    }
    for (const [k, sku] of checkoutSkus.entries()) {
      const sold = BigInt([...orderIds].filter(([i, id]) => i % checkoutSkus.length === k && paid.has(id)).length);
      expect(bySku.get(sku)).toMatchObject({ onHand: checkoutStock - sold, reserved: 0n });
    }

    // Payments: one charge per paid order; every other intent canceled.
    const stats = (await (
      await fetch(`${(processes[0] as ServiceProcess).url}/_emulator/stats`, {
        headers: { authorization: `Bearer ${stripeKey}` },
      })
    ).json()) as { payment_intents: { created: number; canceled: number }; charges: { succeeded: number } };
    expect(stats.charges.succeeded).toBe(paid.size);
    expect(stats.payment_intents.created - stats.payment_intents.canceled).toBe(paid.size);

    // Events: every stream holds each event once, and one of each per operation.
    const stored = (
      await Promise.all(
        contractStreams(env.namespace)
          .filter((s) => !s.name.endsWith("_DEAD_LETTER"))
          .map((s) => storedEvents(jetstream.nats, s.name)),
      )
    ).flat();
    expect(repeatedIds(stored), "event ids stored twice").toEqual([]);
    const aggregatesOf = (type: string) =>
      stored
        .filter((e) => e.type === type)
        .map((e) => e.aggregateId)
        .sort();
    expect(aggregatesOf("ProductCreated")).toEqual([...productIds.values(), ...checkoutProductIds].sort());
    expect(aggregatesOf("OrderPlaced")).toEqual([...orderIds.values()].sort());
    for (const type of ["PaymentSucceeded", "OrderPaid"]) expect(aggregatesOf(type), type).toEqual([...paid].sort());
    expect(aggregatesOf("OrderCancelled")).toEqual([...cancelled.keys()].sort());
    expect(aggregatesOf("PaymentFailed")).toEqual([]);

    const db = new pg.Client({ connectionString: env.postgresSchemaUrl });
    await db.connect();
    try {
      const { rows } = await db.query("select count(*)::int as n from products");
      expect(rows[0].n).toBe(productCount + checkoutSkus.length);
    } finally {
      await db.end();
    }
  }, 180_000);

  it("converges both search replicas, one of them restarted after its kill, to the same results", async () => {
    const [searchA, searchB] = replicas.search as [ServiceProcess, ServiceProcess];
    const restarted = spawnService("search-b2", "search", searchB.port, searchB.env);
    processes.push(restarted);
    await waitUntilReady(restarted);

    const inStock = new Set([
      ...Array.from({ length: adjustCount }, (_, i) => productIds.get(i)),
      ...checkoutProductIds,
    ]);
    const priced = [...productIds].filter(([i]) => productPrice(i) >= 1_500n && productPrice(i) <= 2_000n);
    const expected: Record<string, number> = {
      "everything, newest first": productCount + checkoutSkus.length,
      "text: lamp": productCount / 2,
      "price 15.00–20.00 EUR, cheapest first": priced.length,
      "in stock, by title": inStock.size,
    };
    for (const [what, request] of convergenceQueries) {
      await waitFor(
        async () => {
          const [a, b] = await Promise.all([searchAll(searchA.url, request), searchAll(restarted.url, request)]);
          return Number(a.total) === expected[what] && Number(b.total) === expected[what];
        },
        60_000,
        `both search replicas answer "${what}" with ${expected[what]} products`,
      );
    }
    // Once every count is there, the stock levels in the results must settle on the inventory's, on both.
    await waitFor(
      async () => {
        const results = await searchAll(restarted.url, convergenceQueries[3]?.[1] ?? {});
        return (
          results.hits.every((hit) => hit.available > 0n) &&
          new Set(results.hits.map((h) => h.id)).size === inStock.size
        );
      },
      30_000,
      "in-stock results settled",
    );
    for (const [what, request] of convergenceQueries) {
      const [a, b] = await Promise.all([searchAll(searchA.url, request), searchAll(restarted.url, request)]);
      expect(b, what).toEqual(a);
    }
    const inStockIds = (await searchAll(searchA.url, convergenceQueries[3]?.[1] ?? {})).hits.map((h) => h.id);
    expect(new Set(inStockIds)).toEqual(inStock);
    const lamps = (await searchAll(searchA.url, { query: "lamp" })).hits.map((h) => h.id);
    expect(new Set(lamps)).toEqual(new Set([...productIds].filter(([i]) => i % 2 === 1).map(([, id]) => id)));
  }, 120_000);
});
