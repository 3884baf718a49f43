// Least privilege on NATS: a nats-server of this test's own, configured with the authorization block that
// `scripts/nats-users.ts --conf` generates (passwords from its environment), runs every service as its own user through
// a seller's product, search with its stock and a guest's card checkout, without a single permissions violation. Then,
// connected as one service, what that service must not do is refused: another service's events, deleting or purging a
// stream, another service's KV bucket, another service's durable consumer.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection, usernamePasswordAuthenticator } from "@nats-io/transport-node";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import {
  generateApiKey,
  type NatsServiceName,
  namespacedStream,
  natsAuthorizationConfig,
  natsInboxPrefix,
  natsPasswordVariable,
  natsServiceNames,
} from "@shop/platform";
import { createTestEnv, freePort, type OwnServer, startOwnNats, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedMug, guestBuysRedMug, type ShopCommand } from "../support/quick-start-steps.js";
import { runShopProcess } from "../support/run-shop.js";
import {
  type ServiceProcess,
  spawnService,
  stackServiceEnv,
  stopProcesses,
  waitUntilReady,
} from "../support/service-processes.js";
import { freePorts, freshEnv } from "../support/stack-process.js";

const passwords = Object.fromEntries(
  natsServiceNames.map((service) => [service, `pw${randomBytes(32).toString("hex")}`]),
) as Record<NatsServiceName, string>;
const stripeKey = `sk_test_${randomBytes(12).toString("hex")}`;
const webhookSecret = `whsec_${randomBytes(12).toString("hex")}`;
const keys = { operator: generateApiKey(Role.OPERATOR), ordersService: generateApiKey(Role.SERVICE) };

let env: TestEnv;
let nats: OwnServer;
let dir: string;
let natsLog: string;
let gatewayUrl: string;
const processes: ServiceProcess[] = [];
const connections: NatsConnection[] = [];

/** `shop …` as a process, with the operator key and no stored login. */
const shop: ShopCommand = (...args) =>
  runShopProcess(
    args,
    freshEnv({ SHOP_ENDPOINT: gatewayUrl, SHOP_API_KEY: keys.operator.secret, SHOP_CONFIG: join(dir, "cli.json") }),
  );

/** A connection to the test's nats-server as `service`'s user. */
async function connectAs(service: NatsServiceName): Promise<NatsConnection> {
  const nc = await connect({
    servers: nats.url,
    authenticator: usernamePasswordAuthenticator(service, passwords[service]),
    inboxPrefix: natsInboxPrefix(service),
  });
  connections.push(nc);
  return nc;
}

/** The permission violations nats-server logged so far. */
const violations = async () => (await readFile(natsLog, "utf8")).split("\n").filter((line) => /Violation/.test(line));

beforeAll(async () => {
  // The namespace is in every subject of the permissions, so the server's port is chosen before the namespace is made.
  const port = await freePort();
  env = await createTestEnv({ nats: { urls: [`nats://127.0.0.1:${port}`], removeStreams: false } });
  dir = await mkdtemp(join(tmpdir(), "shop-nats-permissions-"));
  natsLog = join(dir, "nats-server.log");
  const config = join(dir, "authorization.conf");
  await writeFile(config, natsAuthorizationConfig(env.namespace));
  nats = await startOwnNats({
    port,
    args: ["-c", config, "-l", natsLog],
    env: Object.fromEntries(natsServiceNames.map((service) => [natsPasswordVariable(service), passwords[service]])),
  });

  const ports = await freePorts([...natsServiceNames, "stripe-emulator"]);
  const url = (service: NatsServiceName) => `http://127.0.0.1:${ports[service]}`;
  gatewayUrl = url("gateway");
  const serviceEnv = stackServiceEnv({
    shared: {
      ...env.serviceEnv,
      SHOP_LOG_LEVEL: process.env.SHOP_LOG_LEVEL ?? "warn",
      SHOP_STATIC_API_KEYS: `operator:${keys.operator.secret},service:${keys.ordersService.secret}`,
    },
    upstream: url,
    orders: {
      serviceKey: keys.ordersService.secret,
      stripeKey,
      webhookSecret,
      stripeApiUrl: `http://127.0.0.1:${ports["stripe-emulator"]}`,
      mailOutboxDir: join(dir, "mail-outbox"),
    },
  });
  processes.push(
    spawnService("stripe-emulator", "stripe-emulator", ports["stripe-emulator"], {
      SHOP_LOG_LEVEL: "warn",
      SHOP_STRIPE_EMULATOR_SECRET_KEY: stripeKey,
      SHOP_STRIPE_EMULATOR_WEBHOOKS: `${webhookSecret}@${url("orders")}/webhooks/stripe`,
    }),
  );
  for (const service of natsServiceNames) {
    processes.push(
      spawnService(service, service, ports[service], {
        ...serviceEnv[service],
        SHOP_NATS_USER: service,
        SHOP_NATS_PASSWORD: passwords[service],
      }),
    );
  }
  await Promise.all(processes.map((proc) => waitUntilReady(proc)));
}, 120_000);

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await stopProcesses(processes);
  await nats?.dispose();
  await env?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe("every service as its own NATS user", () => {
  it("takes a product to search with its stock and through a guest's card checkout, with no permission refused", async () => {
    await createRedMug(shop);
    await guestBuysRedMug(shop, gatewayUrl);
    expect(await violations()).toEqual([]);
  }, 90_000);
});

describe("what a service must not do on NATS", () => {
  const stream = (name: string) => namespacedStream(env.namespace, name);
  const subject = (tail: string) => `${env.namespace}.${tail}`;

  it("refuses search publishing a products event, and the stream stores nothing", async () => {
    const js = jetstream(await connectAs("search"));
    const jsm = await jetstreamManager(await connectAs("products"));
    const before = (await jsm.streams.info(stream("PRODUCTS"))).state.messages;
    await expect(js.publish(subject("shop.products.product.forged"), "forged")).rejects.toThrow(
      /Permissions Violation/,
    );
    expect((await jsm.streams.info(stream("PRODUCTS"))).state.messages).toBe(before);
  });

  it("refuses products publishing an inventory event", async () => {
    const js = jetstream(await connectAs("products"));
    await expect(js.publish(subject("shop.inventory.stock.MUG-1"), "forged")).rejects.toThrow(/Permissions Violation/);
  });

  it("refuses search deleting or purging a stream, which keeps its events", async () => {
    const jsm = await jetstreamManager(await connectAs("search"));
    const before = (await jsm.streams.info(stream("PRODUCTS"))).state.messages;
    expect(before).toBeGreaterThan(0);
    await expect(jsm.streams.purge(stream("PRODUCTS"))).rejects.toThrow(/Permissions Violation/);
    await expect(jsm.streams.delete(stream("PRODUCTS"))).rejects.toThrow(/Permissions Violation/);
    await expect(jsm.streams.deleteMessage(stream("ORDERS"), 1)).rejects.toThrow(/Permissions Violation/);
    expect((await jsm.streams.info(stream("PRODUCTS"))).state.messages).toBe(before);
  });

  it("refuses search changing products' stream, whose shrunk limits would drop its events", async () => {
    const jsm = await jetstreamManager(await connectAs("search"));
    const before = (await jsm.streams.info(stream("PRODUCTS"))).state.messages;
    await expect(jsm.streams.update(stream("PRODUCTS"), { max_msgs: 1 })).rejects.toThrow(/Permissions Violation/);
    expect((await jsm.streams.info(stream("PRODUCTS"))).state.messages).toBe(before);
  });

  it("refuses search reading orders' KV bucket", async () => {
    const nc = await connectAs("search");
    const bucket = `${env.namespace}_order_recovery_claims`;
    const claims = await new Kvm(nc).open(bucket);
    await expect(claims.get("any-order")).rejects.toThrow(/Permissions Violation/);
    await expect(claims.put("any-order", "search")).rejects.toThrow(/Permissions Violation/);
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.info(`KV_${bucket}`)).rejects.toThrow(/Permissions Violation/);
  });

  it("refuses search listening to the replies other services get", async () => {
    // Orders' replies carry the ORDERS events its consumers pull (customers' addresses) and its KV values.
    const nc = await connectAs("search");
    for (const inboxes of [`${natsInboxPrefix("orders")}.>`, "_INBOX.>", ">"]) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        nc.subscribe(inboxes).closed.then(String),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve(`still subscribed to ${inboxes} after 5 s`), 5_000);
        }),
      ]);
      clearTimeout(timer);
      expect(outcome).toMatch(/Permissions Violation/);
    }
  });

  it("refuses search taking or deleting orders' durable consumer", async () => {
    const jsm = await jetstreamManager(await connectAs("search"));
    const durable = `${env.namespace}_orders-hold-expiry`;
    await expect(jsm.consumers.delete(stream("INVENTORY"), durable)).rejects.toThrow(/Permissions Violation/);
    expect((await jsm.consumers.info(stream("INVENTORY"), durable)).name).toBe(durable);
  });
});
