import { type EnvReader, int, loadConfig, platformConfigSpec, str, url, urlList } from "@shop/platform";

/** A secret with no built-in value: the start stops with what to set when it is missing or looks wrong. */
function secret(prefix: string, example: string): EnvReader<string> {
  return (raw, name) => {
    const value = raw?.trim() ?? "";
    if (value === "") throw new Error(`${name} is required, e.g. ${name}=${example}`);
    if (!value.startsWith(prefix)) throw new Error(`${name} must start with ${prefix}`);
    return value;
  };
}

/** A URL with one of the protocols, or "" when unset. */
function optionalUrl(protocols: string[]): EnvReader<string> {
  return (raw, name, env) =>
    raw === undefined || raw.trim() === "" ? "" : url(undefined, protocols)(raw.trim(), name, env);
}

/** The orders service's own variables, next to the platform's. */
export const ordersConfigSpec = {
  ...platformConfigSpec,
  SHOP_PORT: int(8084, 0, 65535),
  /**
   * Where the inventory answers Reserve/Commit/Release, called with SHOP_SERVICE_KEY (required); comma-separated
   * replicas are called in turn, past one that refuses the connection.
   */
  SHOP_UPSTREAM_INVENTORY: urlList("http://127.0.0.1:8083", ["http:", "https:"]),
  /** Stripe secret key (sk_test_… against the emulator). Required, no default. */
  SHOP_STRIPE_SECRET_KEY: secret("sk_", "sk_test_…"),
  /** Signing secret of the webhook endpoint POST /webhooks/stripe. Required, no default. */
  SHOP_STRIPE_WEBHOOK_SECRET: secret("whsec_", "whsec_…"),
  /** Base URL of the Stripe API; the emulator's for tests and npm start (http://127.0.0.1:12111). */
  SHOP_STRIPE_API_URL: url("https://api.stripe.com", ["http:", "https:"]),
  /** How long stock is held for an order waiting for its payment (3-D Secure). Default 15 minutes; tests go to 1 s. */
  SHOP_ORDERS_HOLD_SECONDS: int(900, 1, 86_400),
  /** An order unchanged this long between checkout steps is recovered (a live checkout takes seconds). Default 2 min. */
  SHOP_ORDERS_RECOVERY_AFTER_S: int(120, 1, 86_400),
  /** How often each replica runs a recovery pass; 0 turns the timer off (RecoverOrders still runs one). Default 30 s. */
  SHOP_ORDERS_RECOVERY_INTERVAL_S: int(30, 0, 3_600),
  /** Lifetime of a customer session token. Default 1 hour. */
  SHOP_ORDERS_SESSION_SECONDS: int(3_600, 60, 86_400),
  /** Largest webhook body read; Stripe's events are a few kB. Default 256 KiB. */
  SHOP_ORDERS_MAX_WEBHOOK_BYTES: int(256 * 1024, 1024, 4 * 1024 * 1024),
  /** SMTP server for order emails (smtp://user:pass@host:587 or smtps://…). Unset: `.eml` files in SHOP_MAIL_OUTBOX_DIR. */
  SHOP_SMTP_URL: optionalUrl(["smtp:", "smtps:"]),
  /** Folder of the order emails as `.eml` files when SHOP_SMTP_URL is unset. Default .shop-data/mail-outbox. */
  SHOP_MAIL_OUTBOX_DIR: str(".shop-data/mail-outbox"),
  /** The From of order emails. */
  SHOP_MAIL_FROM: str("Shop <orders@shop.localhost>"),
};

export type OrdersConfig = { [K in keyof typeof ordersConfigSpec]: ReturnType<(typeof ordersConfigSpec)[K]> };

/** Reads and validates the orders service's environment; a bad value stops the start with every problem listed. */
export function loadOrdersConfig(env: Record<string, string | undefined> = process.env): OrdersConfig {
  return loadConfig(ordersConfigSpec, env);
}
