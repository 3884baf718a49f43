import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import {
  createStripeEmulator,
  loadStripeEmulatorConfig,
  type StripeEmulatorOverrides,
  type WebhookDelivery,
} from "../../src/index.js";

/** The key every test emulator accepts; tests pass it explicitly, as the emulator has no default. */
export const testSecretKey = "sk_test_emulator_suite_key";

/** A running emulator, an SDK client pointed at it, and the test-only routes. */
export interface EmulatorHarness {
  url: string;
  port: number;
  /** The real SDK, no automatic retries, so every answer is the emulator's first. */
  stripe: Stripe;
  /** Another SDK client for the same emulator, with options (another key, retries). */
  client(options?: Stripe.StripeConfig & { key?: string }): Stripe;
  /** GET or POST on a `/_emulator/` route with the secret key. */
  emulator<T = Record<string, unknown>>(path: string, method?: "GET" | "POST"): Promise<T>;
  stats(): Promise<EmulatorStats>;
  deliveries(query?: string): Promise<WebhookDelivery[]>;
  stop(): Promise<void>;
}

/** The shape of `GET /_emulator/stats`, as far as tests read it. */
export interface EmulatorStats {
  payment_intents: { created: number; confirmations: number; canceled: number; by_status: Record<string, number> };
  charges: { succeeded: number; failed: number; captured: number; amount_captured: Record<string, number> };
  refunds: { created: number; amount_refunded: Record<string, number> };
  authentications: { completed: number; failed: number };
  idempotency: { keys: number; replays: number; mismatches: number; in_use: number };
  webhooks: { events: number; deliveries: { pending: number; succeeded: number; failed: number }; attempts: number };
}

/** Starts an emulator in this process on a free port; `env` adds or replaces variables. */
export async function startEmulator(
  env: Record<string, string> = {},
  overrides: StripeEmulatorOverrides = {},
): Promise<EmulatorHarness> {
  const config = loadStripeEmulatorConfig({
    SHOP_STRIPE_EMULATOR_SECRET_KEY: testSecretKey,
    SHOP_STRIPE_EMULATOR_PORT: "0",
    SHOP_LOG_LEVEL: "silent",
    ...env,
  });
  const emulator = createStripeEmulator(config, overrides);
  const { url, port } = await emulator.start();
  const client = ({ key = testSecretKey, ...options }: Stripe.StripeConfig & { key?: string } = {}) =>
    new Stripe(key, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0, ...options });
  const emulatorRoute = async <T>(path: string, method: "GET" | "POST" = "GET"): Promise<T> => {
    const response = await fetch(`${url}${path}`, { method, headers: { Authorization: `Bearer ${testSecretKey}` } });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    url,
    port,
    stripe: client(),
    client,
    emulator: emulatorRoute,
    stats: () => emulatorRoute<EmulatorStats>("/_emulator/stats"),
    deliveries: async (query = "") =>
      (await emulatorRoute<{ data: WebhookDelivery[] }>(`/_emulator/webhook_deliveries${query}`)).data,
    stop: () => emulator.stop(),
  };
}

/** A request the webhook receiver got, with the body exactly as sent. */
export interface ReceivedWebhook {
  rawBody: string;
  signature: string | undefined;
  eventId: string;
  eventType: string;
}

/** A local HTTP server standing in for the orders service's webhook route. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Statuses to answer with, in order; once used up every request gets 200. */
  answerWith(...statuses: number[]): void;
  close(): Promise<void>;
}

function readRaw(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Starts a receiver on a free port that records every request and answers as told. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const statuses: number[] = [];
  const server: Server = createServer(async (req, res) => {
    const rawBody = await readRaw(req);
    const event = JSON.parse(rawBody) as { id: string; type: string };
    const signature = req.headers["stripe-signature"];
    received.push({
      rawBody,
      signature: typeof signature === "string" ? signature : undefined,
      eventId: event.id,
      eventType: event.type,
    });
    res.writeHead(statuses.shift() ?? 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    answerWith: (...next) => statuses.push(...next),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
