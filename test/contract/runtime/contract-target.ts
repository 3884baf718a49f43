// Where the contract suites call: a running deployment (SHOP_CONTRACT_BASE_URL, set by `npm run contract`) or, in CI,
// a whole stack each suite starts in-process on its own namespace through the services' create functions.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { eventTypeHeader, namespacedStream } from "@shop/event-wire";
import { createGateway, loadGatewayConfig } from "@shop/gateway";
import { createInventory, loadInventoryConfig } from "@shop/inventory";
import { createOrders, loadOrdersConfig } from "@shop/orders";
import { contractRegistry, createLogger, createPlatform, generateApiKey } from "@shop/platform";
import { clientFor, createTestEnv, freePort } from "@shop/platform/testing";
import { createProducts, loadProductsConfig } from "@shop/products";
import { createSearch, loadSearchConfig } from "@shop/search";
import { createStripeEmulator, loadStripeEmulatorConfig } from "@shop/stripe-emulator";
import type { RoleName } from "./service-contract.js";

/** One address an RPC is called at: through the gateway, or the service itself. */
export interface Endpoint {
  via: "gateway" | "direct";
  url: string;
}

/** What the suites need of a deployment. */
export interface ContractTarget {
  /** Where a domain's RPCs are called (the gateway, and the service directly when its URL is known). */
  endpoints(domain: string): Endpoint[];
  /** A credential per role; undefined for public (no credentials). */
  credential(role: RoleName): string | undefined;
  /** The request body limit the deployment enforces (SHOP_MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  /** The deployment's JetStream, when the suite can read it (the local stack, or --nats-url): events are seen there. */
  streams?: StreamWatch;
  stop(): Promise<void>;
}

/** One message read back from a stream. */
export interface StoredEvent {
  seq: number;
  subject: string;
  /** The `Shop-Event-Type` header. */
  type: string;
  data: Uint8Array;
  /** Its EventMeta.occur_time in ms (when the fact happened, not when a relay published it); 0 when unreadable. */
  occurMs: number;
}

/** Reads the contract's streams of one namespace. */
export interface StreamWatch {
  namespace: string;
  /** The last sequence of a contract stream (by its contract name, e.g. "PRODUCTS"); 0 when empty. */
  lastSequence(stream: string): Promise<number>;
  /** Messages of a contract stream after `seq`, oldest first. */
  after(stream: string, seq: number): Promise<StoredEvent[]>;
}

function occurMsOf(type: string, data: Uint8Array): number {
  const schema = contractRegistry.getMessage(type);
  if (!schema) return 0;
  try {
    const meta = (fromBinary(schema, data) as { meta?: { occurTime?: Timestamp } }).meta;
    return meta?.occurTime ? timestampMs(meta.occurTime) : 0;
  } catch {
    return 0;
  }
}

async function watchStreams(natsUrl: string, namespace: string): Promise<StreamWatch & { close(): Promise<void> }> {
  const nats = await connect({ servers: natsUrl.split(",") });
  const jsm = await jetstreamManager(nats);
  const lastSequence = async (stream: string) =>
    (await jsm.streams.info(namespacedStream(namespace, stream))).state.last_seq;
  return {
    namespace,
    lastSequence,
    async after(stream, seq) {
      const last = await lastSequence(stream);
      const out: StoredEvent[] = [];
      for (let next = seq + 1; next <= last; next++) {
        const msg = await jsm.streams.getMessage(namespacedStream(namespace, stream), { seq: next });
        if (!msg) continue;
        const type = msg.header.get(eventTypeHeader);
        out.push({ seq: next, subject: msg.subject, type, data: msg.data, occurMs: occurMsOf(type, msg.data) });
      }
      return out;
    },
    close: () => nats.close(),
  };
}

const defaultMaxRequestBytes = 4 * 1024 * 1024;
// The local stack is given a smaller body limit, so the oversized-body cases send 1 MiB instead of 4 (every RPC,
// protocol and endpoint sends one); it still fits the largest valid request a rule allows (a 1 MiB webhook payload).
const localMaxRequestBytes = 1536 * 1024;

/** `domain=url` pairs separated by commas, e.g. "products=http://127.0.0.1:8081". */
function parseDirect(value: string): Record<string, string> {
  return Object.fromEntries(
    value
      .split(",")
      .map((pair) => pair.trim())
      .filter((pair) => pair.includes("="))
      .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
  );
}

/** The settings `npm run contract` passes, or a local stack when there is no base URL. */
export async function openContractTarget(): Promise<ContractTarget> {
  const baseUrl = process.env.SHOP_CONTRACT_BASE_URL ?? "";
  if (baseUrl === "") return startLocalStack();
  const operator = process.env.SHOP_CONTRACT_KEY ?? "";
  if (operator === "") throw new Error("SHOP_CONTRACT_KEY (--key) must be an operator API key of the deployment");
  const direct = parseDirect(process.env.SHOP_CONTRACT_DIRECT ?? "");
  const keys: Record<string, string> = {
    operator,
    seller: process.env.SHOP_CONTRACT_SELLER_KEY || (await mintKey(baseUrl, operator, Role.SELLER)),
    service: process.env.SHOP_CONTRACT_SERVICE_KEY || (await mintKey(baseUrl, operator, Role.SERVICE)),
  };
  keys.customer = await customerToken(baseUrl);
  const natsUrl = process.env.SHOP_CONTRACT_NATS_URL ?? "";
  const streams = natsUrl ? await watchStreams(natsUrl, process.env.SHOP_CONTRACT_NAMESPACE ?? "") : undefined;
  return {
    endpoints: (domain) => [
      { via: "gateway", url: baseUrl },
      ...(direct[domain] ? [{ via: "direct" as const, url: direct[domain] }] : []),
    ],
    credential: (role) => keys[role],
    maxRequestBytes: Number(process.env.SHOP_CONTRACT_MAX_REQUEST_BYTES || defaultMaxRequestBytes),
    streams,
    stop: async () => streams?.close(),
  };
}

/** A key of `role` made with the operator's key; the contract's own ApiKeyService, so any deployment has it. */
async function mintKey(baseUrl: string, operator: string, role: Role): Promise<string> {
  const client = clientFor(ApiKeyService, baseUrl, { credential: operator });
  const made = await client.createApiKey({ displayName: `contract suite ${Role[role].toLowerCase()}`, role });
  // Keys reach every service through the identity stream: wait until the gateway knows this one.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const who = await clientFor(ApiKeyService, baseUrl, { credential: made.secret })
      .whoAmI({})
      .catch(() => undefined);
    if (who?.role === role) return made.secret;
    if (Date.now() > deadline) throw new Error(`the new ${Role[role]} key was not accepted within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A customer session, as a storefront starts one. */
async function customerToken(baseUrl: string): Promise<string> {
  const session = await clientFor(OrderService, baseUrl).startCustomerSession({ email: "contract@example.com" });
  return session.token;
}

/** Products, inventory, search, orders (with the Stripe emulator) and the gateway, in this process. */
async function startLocalStack(): Promise<ContractTarget> {
  const env = await createTestEnv();
  const logger = (name: string) => createLogger(name, process.env.SHOP_LOG_LEVEL ?? "silent");
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
    await env.cleanup();
  };
  try {
    const keys: Record<string, string> = {};
    const statics: string[] = [];
    for (const [name, role] of [
      ["seller", Role.SELLER],
      ["operator", Role.OPERATOR],
      ["service", Role.SERVICE],
    ] as const) {
      keys[name] = generateApiKey(role).secret;
      statics.push(`${name}:${keys[name]}`);
    }
    const common = {
      ...env.serviceEnv,
      SHOP_PORT: "0",
      SHOP_STATIC_API_KEYS: statics.join(","),
      SHOP_MAX_REQUEST_BYTES: String(localMaxRequestBytes),
    };

    const productsConfig = loadProductsConfig({ ...common, SHOP_DATABASE_URL: env.postgresUrl });
    const products = await createProducts(
      await createPlatform("products", productsConfig, { logger: logger("products") }),
      productsConfig,
    );
    stops.push(() => products.stop());
    const productsUrl = (await products.start()).url;

    const inventoryConfig = loadInventoryConfig(common);
    const inventory = await createInventory(
      await createPlatform("inventory", inventoryConfig, { logger: logger("inventory") }),
      inventoryConfig,
    );
    stops.push(() => inventory.stop());
    const inventoryUrl = (await inventory.start()).url;

    const searchConfig = loadSearchConfig(common);
    const search = await createSearch(
      await createPlatform("search", searchConfig, { logger: logger("search") }),
      searchConfig,
    );
    stops.push(() => search.stop());
    const searchUrl = (await search.start()).url;

    // Test-only Stripe credentials, random per run: nothing here could reach a real account.
    const stripeKey = `sk_test_${randomBytes(12).toString("hex")}`;
    const webhookSecret = `whsec_${randomBytes(12).toString("hex")}`;
    const ordersPort = await freePort();
    const emulator = createStripeEmulator(
      loadStripeEmulatorConfig({
        SHOP_STRIPE_EMULATOR_SECRET_KEY: stripeKey,
        SHOP_STRIPE_EMULATOR_PORT: "0",
        SHOP_LOG_LEVEL: "silent",
        SHOP_STRIPE_EMULATOR_WEBHOOKS: `${webhookSecret}@http://127.0.0.1:${ordersPort}/webhooks/stripe`,
      }),
    );
    stops.push(() => emulator.stop());
    const emulatorUrl = (await emulator.start()).url;
    const mailDir = await mkdtemp(join(tmpdir(), "shop-contract-mail-"));
    stops.push(() => rm(mailDir, { recursive: true, force: true }));
    const ordersConfig = loadOrdersConfig({
      ...common,
      SHOP_PORT: String(ordersPort),
      SHOP_MAIL_OUTBOX_DIR: mailDir,
      SHOP_SERVICE_KEY: keys.service as string,
      SHOP_UPSTREAM_INVENTORY: inventoryUrl,
      SHOP_STRIPE_SECRET_KEY: stripeKey,
      SHOP_STRIPE_WEBHOOK_SECRET: webhookSecret,
      SHOP_STRIPE_API_URL: emulatorUrl,
    });
    const orders = await createOrders(
      await createPlatform("orders", ordersConfig, { logger: logger("orders") }),
      ordersConfig,
    );
    stops.push(() => orders.stop());
    const ordersUrl = (await orders.start()).url;
    await Promise.all([products.ready, inventory.ready, search.ready, orders.ready]);

    const direct: Record<string, string> = {
      products: productsUrl,
      identity: productsUrl,
      inventory: inventoryUrl,
      search: searchUrl,
      orders: ordersUrl,
    };
    const gatewayConfig = loadGatewayConfig(common);
    const gateway = createGateway(
      await createPlatform("gateway", gatewayConfig, { logger: logger("gateway") }),
      gatewayConfig,
      {
        upstreams: direct,
      },
    );
    stops.push(() => gateway.stop());
    const gatewayUrl = (await gateway.start()).url;
    keys.customer = await customerToken(gatewayUrl);
    const streams = await watchStreams(env.natsUrl, env.namespace);
    stops.push(() => streams.close());

    return {
      endpoints: (domain) => [
        { via: "gateway", url: gatewayUrl },
        ...(direct[domain] ? [{ via: "direct" as const, url: direct[domain] }] : []),
      ],
      credential: (role) => keys[role],
      maxRequestBytes: localMaxRequestBytes,
      streams,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
