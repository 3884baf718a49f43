import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import {
  type CreateOrderRequest,
  CreateOrderRequestSchema,
  OrderService,
} from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { ProductCreatedSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import { ProductSchema, ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import { createInventory, type Inventory, loadInventoryConfig } from "@shop/inventory";
import { createLogger, createPlatform, generateApiKey, newEventMeta } from "@shop/platform";
import {
  clientFor,
  createTestEnv,
  createTestKeys,
  freePort,
  openTestJetStream,
  type TestEnv,
  type TestEnvOptions,
  type TestJetStream,
  type TestKeys,
  waitFor,
} from "@shop/platform/testing";
import { createStripeEmulator, loadStripeEmulatorConfig, type StripeEmulator } from "@shop/stripe-emulator";
import { createOrders, loadOrdersConfig, type Orders } from "../../src/index.js";

const stripeKey = "sk_test_orders_suite_key";
export const webhookSecret = "whsec_orders_suite_secret";

/** What `GET /_emulator/stats` says, as far as these tests read it. */
export interface PaymentStats {
  payment_intents: { created: number; canceled: number };
  /** Amounts by lowercase currency, in minor units. */
  charges: { succeeded: number; failed: number; captured: number; amount_captured: Record<string, number> };
  refunds: { created: number; amount_refunded: Record<string, number> };
}

/**
 * Everything a checkout needs, in-process on the test's namespace: inventory (Redis + JetStream), the Stripe emulator
 * delivering webhooks to the orders service, and the orders service calling inventory with its own service key.
 */
export interface CheckoutHarness {
  env: TestEnv;
  jetstream: TestJetStream;
  orders: Orders;
  ordersUrl: string;
  emulatorUrl: string;
  /** The temporary folder the orders service writes its emails to (`.eml` files). */
  mailOutboxDir: string;
  keys: TestKeys;
  /** An operator's client of the inventory. */
  inventory: Client<typeof InventoryService>;
  /** The inventory instance itself, e.g. to wait for its rebuild after Redis lost its data. */
  inventoryService: Inventory;
  client(credential?: string): Client<typeof OrderService>;
  /** A customer session token and its customer id, through StartCustomerSession. */
  customer(email?: string): Promise<{ token: string; customerId: string; orders: Client<typeof OrderService> }>;
  /** A new seller API key: its id (what products record as their seller) and an orders client using it. */
  seller(): { sellerId: string; orders: Client<typeof OrderService> };
  /** Publishes an active product with one SKU to the catalog and waits until orders prices it. */
  addProduct(
    sku: string,
    priceMinor: bigint,
    options?: { currency?: string; status?: ProductStatus; sellerId?: string },
  ): Promise<void>;
  setStock(sku: string, onHand: bigint): Promise<void>;
  stock(sku: string): Promise<{ onHand: bigint; reserved: bigint; available: bigint }>;
  payments(): Promise<PaymentStats>;
  /** GET on the emulator's own routes (`/_emulator/…`), with the suite's key. */
  emulatorGet<T>(path: string): Promise<T>;
  /** The environment the orders service runs with here (SHOP_PORT aside): for a child process or a replica. */
  ordersEnv: Record<string, string>;
  /** Another orders instance on the same namespace and inventory (a second replica); stopped by `stop`. */
  startReplica(): Promise<{ orders: Orders; client(credential?: string): Client<typeof OrderService> }>;
  /** Completes the emulator's 3-D Secure challenge at an order's `payment_next_action_url`, as the customer would. */
  completeThreeDSecure(nextActionUrl: string): Promise<void>;
  /**
   * The race of issue 9: `buyers` concurrent CreateOrder calls for 1 unit each of `sku`, alternating between this
   * instance and a second replica, one customer session. Resolves once every caller has its answer: how many got each
   * outcome ("paid", "out of stock", or the code otherwise) and how long that took.
   */
  race(sku: string, buyers: number): Promise<{ outcomes: Record<string, number>; seconds: number }>;
  stop(): Promise<void>;
}

let productCount = 0;

/** What a suite varies about its harness. */
export interface CheckoutHarnessOptions {
  /** Extra orders variables, e.g. a short SHOP_ORDERS_HOLD_SECONDS. Default none. */
  ordersEnv?: Record<string, string>;
  /** Whether the emulator posts webhooks to the orders service. Default true; off, only recovery settles 3-D Secure. */
  webhooks?: boolean;
  /** Extra inventory variables, e.g. SHOP_REDIS_URL of a redis-server the test owns. Default none. */
  inventoryEnv?: Record<string, string>;
  /** What the test environment is made with, e.g. a NATS cluster the test owns. Default the shared servers. */
  testEnv?: TestEnvOptions;
}

/** A card checkout of one unit of `sku` to a Paris address, paid with the test card: what most suites place. */
export function checkoutRequest(requestId: string, sku: string, email = "guest@example.com"): CreateOrderRequest {
  return create(CreateOrderRequestSchema, {
    requestId,
    email,
    lines: [{ sku, quantity: 1n }],
    shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
    paymentMethod: "pm_card_visa",
  });
}

export async function startCheckoutHarness(options: CheckoutHarnessOptions = {}): Promise<CheckoutHarness> {
  const env = await createTestEnv(options.testEnv);
  const jetstream = await openTestJetStream(env);
  const silent = () => createLogger("test", process.env.SHOP_LOG_LEVEL ?? "silent");

  const inventoryConfig = loadInventoryConfig({ ...env.serviceEnv, SHOP_PORT: "0", ...options.inventoryEnv });
  const inventoryPlatform = await createPlatform("inventory", inventoryConfig, { logger: silent() });
  const inventoryService: Inventory = await createInventory(inventoryPlatform, inventoryConfig);
  const inventoryUrl = (await inventoryService.start()).url;
  const inventoryKeys = createTestKeys(inventoryPlatform.apiKeys);
  const serviceKey = generateApiKey(Role.SERVICE);
  inventoryPlatform.apiKeys.put(serviceKey.record);

  const ordersPort = await freePort();
  const emulator: StripeEmulator = createStripeEmulator(
    loadStripeEmulatorConfig({
      SHOP_STRIPE_EMULATOR_SECRET_KEY: stripeKey,
      SHOP_STRIPE_EMULATOR_PORT: "0",
      SHOP_LOG_LEVEL: "silent",
      SHOP_STRIPE_EMULATOR_WEBHOOKS:
        options.webhooks === false ? "" : `${webhookSecret}@http://127.0.0.1:${ordersPort}/webhooks/stripe`,
      SHOP_STRIPE_EMULATOR_WEBHOOK_RETRY_DELAYS_MS: "200,500,1000",
    }),
  );
  const emulatorUrl = (await emulator.start()).url;

  const mailOutboxDir = await mkdtemp(join(tmpdir(), "shop-mail-outbox-"));
  const ordersEnv: Record<string, string> = {
    ...env.serviceEnv,
    SHOP_MAIL_OUTBOX_DIR: mailOutboxDir,
    SHOP_SERVICE_KEY: serviceKey.secret,
    SHOP_UPSTREAM_INVENTORY: inventoryUrl,
    SHOP_STRIPE_SECRET_KEY: stripeKey,
    SHOP_STRIPE_WEBHOOK_SECRET: webhookSecret,
    SHOP_STRIPE_API_URL: emulatorUrl,
    ...options.ordersEnv,
  };
  const ordersConfig = loadOrdersConfig({ ...ordersEnv, SHOP_PORT: String(ordersPort) });
  const ordersPlatform = await createPlatform("orders", ordersConfig, { logger: silent() });
  const orders = await createOrders(ordersPlatform, ordersConfig);
  const ordersUrl = (await orders.start()).url;
  await orders.ready;
  const keys = createTestKeys(ordersPlatform.apiKeys);
  const replicas: Orders[] = [];

  const inventory = clientFor(InventoryService, inventoryUrl, { credential: inventoryKeys.operator });
  const client = (credential?: string) => clientFor(OrderService, ordersUrl, { credential });
  const emulatorGet = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${emulatorUrl}${path}`, { headers: { Authorization: `Bearer ${stripeKey}` } });
    return (await response.json()) as T;
  };

  const harness: CheckoutHarness = {
    env,
    jetstream,
    orders,
    ordersUrl,
    emulatorUrl,
    mailOutboxDir,
    keys,
    inventory,
    inventoryService,
    client,
    async customer(email = "guest@example.com") {
      const session = await client().startCustomerSession({ email });
      return { token: session.token, customerId: session.customerId, orders: client(session.token) };
    },
    seller() {
      const key = generateApiKey(Role.SELLER);
      ordersPlatform.apiKeys.put(key.record);
      return { sellerId: key.record.id, orders: client(key.secret) };
    },
    async addProduct(sku, priceMinor, options = {}) {
      const id = `prod_${++productCount}_${sku}`;
      const product = create(ProductSchema, {
        id,
        title: `Product ${sku}`,
        price: { currencyCode: options.currency ?? "EUR", amountMinor: priceMinor },
        variants: [{ sku }],
        status: options.status ?? ProductStatus.ACTIVE,
        revision: 1n,
        sellerId: options.sellerId ?? "",
      });
      await jetstream.events.publish(
        ProductCreatedSchema,
        create(ProductCreatedSchema, { meta: newEventMeta(id, 1n), product }),
      );
      await waitFor(() => orders.prices.lookup(sku) !== undefined, 5_000, `${sku} in the orders' catalog`);
    },
    async setStock(sku, onHand) {
      await inventory.adjust({ sku, change: { case: "setOnHand", value: onHand }, reason: "test stock" });
    },
    async stock(sku) {
      const [level] = (await inventory.getStock({ skus: [sku] })).levels;
      return { onHand: level?.onHand ?? 0n, reserved: level?.reserved ?? 0n, available: level?.available ?? 0n };
    },
    payments: () => emulatorGet<PaymentStats>("/_emulator/stats"),
    emulatorGet,
    ordersEnv,
    async startReplica() {
      const config = loadOrdersConfig({ ...ordersEnv, SHOP_PORT: "0" });
      const platform = await createPlatform("orders", config, { logger: silent() });
      const replica = await createOrders(platform, config);
      const url = (await replica.start()).url;
      await replica.ready;
      replicas.push(replica);
      return { orders: replica, client: (credential?: string) => clientFor(OrderService, url, { credential }) };
    },
    async completeThreeDSecure(nextActionUrl) {
      const answer = await fetch(nextActionUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "outcome=complete",
        redirect: "manual",
      });
      if (answer.status >= 400) throw new Error(`the challenge page answered ${answer.status}`);
    },
    async race(sku, buyers) {
      const replica = await harness.startReplica();
      const { token } = await harness.customer(`racer-${sku}@example.com`);
      const clients = [client(token), replica.client(token)];
      const run = Date.now();
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: buyers }, async (_, i) => {
          try {
            const order = await clients[i % 2]?.createOrder(
              checkoutRequest(`race-${sku}-${run}-${i}`, sku, `racer-${sku}@example.com`),
            );
            return order?.state === OrderState.PAID ? "paid" : `state ${order?.state}`;
          } catch (err) {
            const error = ConnectError.from(err);
            if (error.code === Code.ResourceExhausted && error.rawMessage.includes(`${sku} is out of stock`)) {
              return "out of stock";
            }
            return `${Code[error.code]}: ${error.rawMessage}`;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const outcomes: Record<string, number> = {};
      for (const answer of answers) outcomes[answer] = (outcomes[answer] ?? 0) + 1;
      return { outcomes, seconds };
    },
    async stop() {
      for (const replica of replicas) await replica.stop();
      await orders.stop();
      await emulator.stop();
      await inventoryService.stop();
      await jetstream.close();
      await env.cleanup();
      await rm(mailOutboxDir, { recursive: true, force: true });
    },
  };
  return harness;
}
