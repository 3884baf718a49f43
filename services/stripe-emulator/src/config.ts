import { type EnvReader, int, loadConfig, platformConfigSpec, str } from "@shop/platform";
import type { WebhookEndpointConfig } from "./webhook-dispatcher.js";

/** The Stripe API version the emulator answers as: the one the `stripe` SDK it is tested with pins. */
export const defaultApiVersion = "2026-10-28.endive";

/**
 * The secret key callers must send (`sk_test_…`): required, with no built-in value, so nobody reaches the emulator
 * with a key they did not choose. A live key (`sk_live_…`) is refused: it must never be pointed at a test double.
 */
function secretKey(): EnvReader<string> {
  return (raw, name) => {
    const value = raw?.trim() ?? "";
    if (value === "") {
      throw new Error(
        `${name} is required: the API key callers must send, e.g. ${name}=sk_test_$(openssl rand -hex 16)`,
      );
    }
    if (value.startsWith("sk_live_")) throw new Error(`${name} must be a test key (sk_test_…), never a live key`);
    if (!/^sk_test_[A-Za-z0-9_]{8,}$/.test(value)) {
      throw new Error(`${name} must be sk_test_ followed by at least 8 letters, digits or underscores`);
    }
    return value;
  };
}

/** An absolute http(s) URL without a trailing slash, or "" when not set. */
function optionalBaseUrl(): EnvReader<string> {
  return (raw, name) => {
    const value = raw?.trim() ?? "";
    if (value === "") return "";
    if (!/^https?:\/\//.test(value) || !URL.canParse(value)) throw new Error(`${name}=${value} is not an http(s) URL`);
    return value.replace(/\/+$/, "");
  };
}

/**
 * Webhook endpoints as `<secret>@<url>` entries separated by commas, e.g.
 * `whsec_abc123@http://127.0.0.1:8084/webhooks/stripe`. Each receives every event type.
 */
export function webhookEndpoints(): EnvReader<WebhookEndpointConfig[]> {
  return (raw, name) => {
    const entries = (raw ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    return entries.map((entry) => {
      const at = entry.indexOf("@");
      const secret = at === -1 ? "" : entry.slice(0, at);
      const url = entry.slice(at + 1);
      if (!/^whsec_[A-Za-z0-9_+/=-]{8,}$/.test(secret)) {
        throw new Error(`${name}: "${entry.slice(0, 20)}…" must be <whsec_ secret>@<url>, the secret first`);
      }
      if (!/^https?:\/\//.test(url) || !URL.canParse(url)) throw new Error(`${name}: ${url} is not an http(s) URL`);
      return { url, secret };
    });
  };
}

/** Delays in milliseconds separated by commas, each within [0, 3 days]. */
function delayList(fallback: number[]): EnvReader<number[]> {
  return (raw, name) => {
    if (raw === undefined || raw.trim() === "") return fallback;
    const delays = raw.split(",").map((part) => Number(part.trim()));
    if (delays.some((delay) => !Number.isInteger(delay) || delay < 0 || delay > 3 * 86_400_000)) {
      throw new Error(`${name}=${raw} must be whole milliseconds separated by commas, each at most 3 days`);
    }
    return delays;
  };
}

/**
 * Stripe retries a failed webhook for up to three days with growing pauses; these add up to about that, starting
 * quickly so a restarted receiver gets its events within seconds.
 */
const defaultRetryDelaysMs = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 57_600_000, 86_400_000,
  86_400_000,
];

/** The emulator's variables. It needs no NATS, database or token keys, so it reads none of the platform's others. */
export const stripeEmulatorConfigSpec = {
  SHOP_LOG_LEVEL: platformConfigSpec.SHOP_LOG_LEVEL,
  /** Interface to listen on. Default loopback: the emulator is for this machine. */
  SHOP_STRIPE_EMULATOR_HOST: str("127.0.0.1"),
  /** Port to listen on; 0 picks a free one. Default 12111, away from the 808x block of Shop's services. */
  SHOP_STRIPE_EMULATOR_PORT: int(12111, 0, 65535),
  /** The API key callers send as `Authorization: Bearer sk_test_…`. Required. */
  SHOP_STRIPE_EMULATOR_SECRET_KEY: secretKey(),
  /** The address browsers use for the 3-D Secure page. Default: http://<host>:<port> as it listens. */
  SHOP_STRIPE_EMULATOR_PUBLIC_URL: optionalBaseUrl(),
  /** Where events are posted, `<whsec_…>@<url>[,…]`; more can be added with the API (`POST /v1/webhook_endpoints`). */
  SHOP_STRIPE_EMULATOR_WEBHOOKS: webhookEndpoints(),
  /** Pauses between attempts of a failed webhook delivery, in ms. Default: 5 s, 30 s, 2 min … about 3 days in all. */
  SHOP_STRIPE_EMULATOR_WEBHOOK_RETRY_DELAYS_MS: delayList(defaultRetryDelaysMs),
  /** How long one webhook attempt waits for the receiver's answer. Default 10 s. */
  SHOP_STRIPE_EMULATOR_WEBHOOK_TIMEOUT_MS: int(10_000, 100, 120_000),
  /** Largest request body accepted; larger ones get 413. Default 1 MiB. */
  SHOP_STRIPE_EMULATOR_MAX_REQUEST_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  /** `api_version` of events and the `Stripe-Version` answered when a request names none. */
  SHOP_STRIPE_EMULATOR_API_VERSION: str(defaultApiVersion),
};

export type StripeEmulatorConfig = {
  [K in keyof typeof stripeEmulatorConfigSpec]: ReturnType<(typeof stripeEmulatorConfigSpec)[K]>;
};

/** Reads and validates the emulator's environment; a bad or missing value stops the start with every problem listed. */
export function loadStripeEmulatorConfig(env: Record<string, string | undefined> = process.env): StripeEmulatorConfig {
  return loadConfig(stripeEmulatorConfigSpec, env);
}
