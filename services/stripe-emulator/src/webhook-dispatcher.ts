import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Logger } from "@shop/platform";
import { type Clock, unixSeconds } from "./domain/clock.js";
import type { EventObject, WebhookEndpointObject } from "./domain/stripe-objects.js";
import { newStripeId, randomToken } from "./stripe-ids.js";
import { stripeSignatureHeader } from "./webhook-signature.js";

/** A place events are sent to: its URL, its signing secret (`whsec_…`) and the event types it wants (`*`: all). */
export interface WebhookEndpointConfig {
  url: string;
  secret: string;
  enabledEvents?: string[];
}

/** One attempt to deliver an event: the receiver's HTTP status, or why no status came back. */
export interface DeliveryAttempt {
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

/**
 * One event on its way to one endpoint (emulator-only; Stripe shows the same in its dashboard). `pending` until a
 * 2xx answer (`succeeded`) or until the retry schedule is used up (`failed`).
 */
export interface WebhookDelivery {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  url: string;
  status: "pending" | "succeeded" | "failed";
  attempts: DeliveryAttempt[];
  next_attempt_at: number | null;
}

export interface WebhookDispatcherOptions {
  clock: Clock;
  /** Delays between attempts after a failure; once used up the delivery is `failed` (redeliver to try again). */
  retryDelaysMs: number[];
  /** How long one attempt waits for the receiver's answer. */
  timeoutMs: number;
  logger: Logger;
}

/** Sends events to the webhook endpoints: signed, retried on failure, and listed for tests. */
export interface WebhookDispatcher {
  addEndpoint(
    config: WebhookEndpointConfig,
    extra?: { description?: string | null; metadata?: Record<string, string> },
  ): WebhookEndpointObject;
  /** A new endpoint with a generated secret, returned once in `secret`, as Stripe's create does. */
  createEndpoint(
    config: Omit<WebhookEndpointConfig, "secret">,
    extra?: { description?: string | null; metadata?: Record<string, string> },
  ): WebhookEndpointObject;
  removeEndpoint(id: string): boolean;
  endpoint(id: string): WebhookEndpointObject | undefined;
  endpoints(): WebhookEndpointObject[];
  /** Queues `event` for every endpoint that wants its type; sets its `pending_webhooks`. */
  publish(event: EventObject): void;
  deliveries(): WebhookDelivery[];
  /** Attempts a delivery again now, with a fresh retry schedule; the event (and its id) stay the same. */
  redeliver(id: string): WebhookDelivery | undefined;
  /** Cancels pending retries, aborts attempts in flight and closes the connections. */
  stop(): Promise<void>;
}

interface EndpointState {
  object: WebhookEndpointObject;
  secret: string;
}

interface DeliveryState {
  delivery: WebhookDelivery;
  body: string;
  failuresInRow: number;
  timer: NodeJS.Timeout | undefined;
}

/** A dispatcher that posts over node:http(s) with its own keep-alive agents. */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { clock, logger } = options;
  const endpoints = new Map<string, EndpointState>();
  const deliveries = new Map<string, DeliveryState>();
  const inFlight = new Set<Promise<void>>();
  const aborts = new Set<AbortController>();
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  let stopped = false;

  function post(url: string, body: string, signature: string, signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const https = target.protocol === "https:";
      const request = (https ? httpsRequest : httpRequest)(
        target,
        {
          method: "POST",
          agent: https ? httpsAgent : httpAgent,
          timeout: options.timeoutMs,
          signal,
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": Buffer.byteLength(body),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature,
          },
        },
        (response) => {
          // Read and drop the answer so the connection can be reused; only the status matters.
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      request.on("error", reject);
      request.end(body);
    });
  }

  async function attempt(state: DeliveryState): Promise<void> {
    const { delivery } = state;
    state.timer = undefined;
    delivery.next_attempt_at = null;
    const endpoint = endpoints.get(delivery.endpoint_id);
    if (endpoint === undefined) {
      delivery.status = "failed";
      delivery.attempts.push({ at: unixSeconds(clock), status: null, error: "endpoint deleted", duration_ms: 0 });
      return;
    }
    const started = performance.now();
    const controller = new AbortController();
    aborts.add(controller);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const signature = stripeSignatureHeader(state.body, endpoint.secret, unixSeconds(clock));
      status = await post(delivery.url, state.body, signature, controller.signal);
    } catch (err) {
      error = (err as Error).message;
    } finally {
      aborts.delete(controller);
    }
    if (stopped) return;
    delivery.attempts.push({
      at: unixSeconds(clock),
      status,
      error,
      duration_ms: Math.round(performance.now() - started),
    });
    if (status !== null && status >= 200 && status < 300) {
      delivery.status = "succeeded";
      return;
    }
    const delay = options.retryDelaysMs[state.failuresInRow];
    state.failuresInRow++;
    const outcome = error ?? `HTTP ${status}`;
    if (delay === undefined) {
      delivery.status = "failed";
      logger.warn(
        { event: delivery.event_id, url: delivery.url, attempts: delivery.attempts.length, outcome },
        "webhook delivery given up",
      );
      return;
    }
    logger.debug({ event: delivery.event_id, url: delivery.url, outcome, retryInMs: delay }, "webhook delivery failed");
    schedule(state, delay);
  }

  function schedule(state: DeliveryState, delayMs: number): void {
    if (stopped) return;
    state.delivery.status = "pending";
    state.delivery.next_attempt_at = Math.floor((clock.now() + delayMs) / 1000);
    const run = () => {
      const running = attempt(state).finally(() => inFlight.delete(running));
      inFlight.add(running);
    };
    if (delayMs === 0) {
      run();
      return;
    }
    state.timer = setTimeout(run, delayMs);
    state.timer.unref();
  }

  function addEndpoint(
    config: WebhookEndpointConfig,
    extra: { description?: string | null; metadata?: Record<string, string> } = {},
  ): WebhookEndpointObject {
    const object: WebhookEndpointObject = {
      id: newStripeId("we"),
      object: "webhook_endpoint",
      api_version: null,
      created: unixSeconds(clock),
      description: extra.description ?? null,
      enabled_events: config.enabledEvents ?? ["*"],
      livemode: false,
      metadata: extra.metadata ?? {},
      status: "enabled",
      url: config.url,
    };
    endpoints.set(object.id, { object, secret: config.secret });
    return { ...object, secret: config.secret };
  }

  return {
    addEndpoint,
    createEndpoint: (config, extra) => addEndpoint({ ...config, secret: `whsec_${randomToken(32)}` }, extra),
    removeEndpoint: (id) => endpoints.delete(id),
    endpoint: (id) => endpoints.get(id)?.object,
    endpoints: () => [...endpoints.values()].map((state) => state.object),
    publish(event) {
      const wanted = [...endpoints.values()].filter(
        ({ object }) => object.enabled_events.includes("*") || object.enabled_events.includes(event.type),
      );
      event.pending_webhooks = wanted.length;
      // Stripe sends events pretty-printed; the receiver verifies these exact bytes on every attempt.
      const body = JSON.stringify(event, null, 2);
      for (const endpoint of wanted) {
        const delivery: WebhookDelivery = {
          id: newStripeId("whdel"),
          event_id: event.id,
          event_type: event.type,
          endpoint_id: endpoint.object.id,
          url: endpoint.object.url,
          status: "pending",
          attempts: [],
          next_attempt_at: null,
        };
        const state: DeliveryState = { delivery, body, failuresInRow: 0, timer: undefined };
        deliveries.set(delivery.id, state);
        schedule(state, 0);
      }
    },
    deliveries: () => [...deliveries.values()].map((state) => state.delivery),
    redeliver(id) {
      const state = deliveries.get(id);
      if (state === undefined) return undefined;
      clearTimeout(state.timer);
      state.failuresInRow = 0;
      schedule(state, 0);
      return state.delivery;
    },
    async stop() {
      stopped = true;
      for (const state of deliveries.values()) clearTimeout(state.timer);
      for (const controller of aborts) controller.abort();
      await Promise.allSettled([...inFlight]);
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
