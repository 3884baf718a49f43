import { createClient } from "@connectrpc/connect";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { createShopService, type Platform, type ShopService } from "@shop/platform";
import { followCatalog } from "./catalog-follower.js";
import type { OrdersConfig } from "./config.js";
import { type CatalogPrices, createCatalogPrices } from "./domain/catalog-prices.js";
import { startHoldExpiryConsumer } from "./hold-expiry-handler.js";
import { startOrderNotifications } from "./order-notifications.js";
import { type OrderReadModel, startOrderReadModel } from "./order-read-model.js";
import { createOrderRecovery, type OrderRecovery } from "./order-recovery.js";
import type { SagaPorts, SagaStep } from "./order-saga.js";
import { orderRoutes } from "./service.js";
import { createFileMailOutbox, createSmtpMailOutbox, type MailOutbox } from "./store/mail-outbox.js";
import { createOrderEventStore } from "./store/order-event-store.js";
import { openRecoveryClaims } from "./store/recovery-claims.js";
import { createStripeIntentLookup } from "./stripe-intent-lookup.js";
import { createStripeClient, createStripePayments, type Payments } from "./stripe-payments.js";
import { stripeWebhookRoute } from "./stripe-webhook.js";

/** What tests vary about an orders instance; a deployment passes none of them. */
export interface OrdersOverrides {
  /** Stands in for Stripe in unit-level tests. Default: the Stripe SDK at SHOP_STRIPE_API_URL. */
  payments?: Payments;
  /** Test-only: called after each checkout step (main.ts sets it from SHOP_ORDERS_FAULT_CRASH_AFTER). Default none. */
  afterSagaStep?: (step: SagaStep) => void;
  /** Where order emails go. Default: SMTP at SHOP_SMTP_URL, else `.eml` files in SHOP_MAIL_OUTBOX_DIR. */
  mailOutbox?: MailOutbox;
}

/** An orders instance: the common service shape, plus the read models its tests watch. */
export interface Orders extends ShopService {
  prices: CatalogPrices;
  readModel: OrderReadModel;
  /** Drives orders left between checkout steps to a final state (timer + RecoverOrders). */
  recovery: OrderRecovery;
  /** The saga's connections (order stream, inventory, payments): tests stage a checkout interrupted halfway. */
  ports: SagaPorts;
  /** Where the order emails land (a folder or an SMTP host). */
  mailOutbox: MailOutbox;
}

/**
 * Builds the orders service on a platform: the catalog prices and the order read model (both replayed from their
 * streams, then followed), the saga's ports (order stream, inventory as this service, Stripe), order recovery (a timer,
 * and the inventory's expired holds), the Connect routes and the Stripe webhook at POST /webhooks/stripe. main.ts
 * and the tests start it through this function.
 */
export async function createOrders(
  platform: Platform,
  config: OrdersConfig,
  overrides: OrdersOverrides = {},
): Promise<Orders> {
  const { js, jsm, logger } = platform;
  const namespace = config.SHOP_NAMESPACE;
  // Throws a ConfigError when SHOP_SERVICE_KEY is missing, so the start stops before serving.
  const inventory = createClient(InventoryService, platform.serviceTransport(config.SHOP_UPSTREAM_INVENTORY));
  const stripe = createStripeClient(config.SHOP_STRIPE_SECRET_KEY, config.SHOP_STRIPE_API_URL);
  const store = createOrderEventStore({ jsm, events: platform.events, namespace });
  const ports: SagaPorts = {
    store,
    inventory,
    payments: overrides.payments ?? createStripePayments(stripe),
    holdMs: config.SHOP_ORDERS_HOLD_SECONDS * 1000,
    afterStep: overrides.afterSagaStep,
  };
  const prices = createCatalogPrices();
  const catalog = await followCatalog({ js, jsm, namespace, logger, prices });
  const readModel = await startOrderReadModel({ js, jsm, namespace, logger, store });
  const mailOutbox =
    overrides.mailOutbox ??
    (config.SHOP_SMTP_URL === ""
      ? await createFileMailOutbox(config.SHOP_MAIL_OUTBOX_DIR)
      : await createSmtpMailOutbox({
          smtpUrl: config.SHOP_SMTP_URL,
          js,
          namespace,
          logger,
          replicas: config.SHOP_NATS_STREAM_REPLICAS,
        }));
  logger.info({ mailOutbox: mailOutbox.where }, "order emails go to this outbox");
  const notifications = await startOrderNotifications({
    js,
    jsm,
    namespace,
    logger,
    metrics: platform.metrics,
    outbox: mailOutbox,
    from: config.SHOP_MAIL_FROM,
    loadOrder: async (orderId) => (await readModel.get(orderId))?.order,
  });
  const ready = Promise.all([catalog.caughtUp, readModel.caughtUp]).then(() => undefined);
  // A claim outlives any one order's checkout or recovery (a few calls); the claim of a worker that died lapses after it.
  const claims = await openRecoveryClaims({
    js,
    namespace,
    ttlMs: 60_000,
    owner: `orders-${process.pid}`,
    replicas: config.SHOP_NATS_STREAM_REPLICAS,
  });
  const recovery = createOrderRecovery({
    ports,
    readModel,
    lookup: createStripeIntentLookup(stripe),
    claims,
    logger,
    recoverAfterMs: config.SHOP_ORDERS_RECOVERY_AFTER_S * 1000,
    intervalMs: config.SHOP_ORDERS_RECOVERY_INTERVAL_S * 1000,
    metrics: platform.metrics,
  });
  void ready.then(() => recovery.start());
  // A hold the inventory expired settles its order now, not at the next pass (3-D Secure abandoned).
  const holdExpiry = await startHoldExpiryConsumer({
    js,
    jsm,
    namespace,
    logger,
    metrics: platform.metrics,
    settleExpiredHold: (orderId) => recovery.settleExpiredHold(orderId),
  });
  let isReady = false;
  void ready.then(() => {
    isReady = true;
  });

  const service = createShopService(
    platform,
    {
      name: "orders",
      routes: orderRoutes({
        ports,
        prices,
        readModel,
        tokens: platform.tokens,
        tokenKeys: config.SHOP_TOKEN_KEYS,
        sessionSeconds: config.SHOP_ORDERS_SESSION_SECONDS,
        ready,
        recovery,
        claims,
      }),
      httpRoutes: {
        "/webhooks/stripe": stripeWebhookRoute({
          stripe,
          secret: config.SHOP_STRIPE_WEBHOOK_SECRET,
          maxBytes: config.SHOP_ORDERS_MAX_WEBHOOK_BYTES,
          ports,
          readOrder: (orderId) => readModel.get(orderId),
          logger,
        }),
      },
      isReady: () => isReady,
      onShutdown: [
        () => holdExpiry.stop(),
        () => recovery.stop(),
        () => catalog.stop(),
        () => notifications.stop(),
        () => readModel.stop(),
        async () => mailOutbox.close(),
      ],
    },
    ready,
  );
  return { ...service, prices, readModel, recovery, mailOutbox, ports };
}
