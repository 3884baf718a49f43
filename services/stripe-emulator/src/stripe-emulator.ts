import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger } from "@shop/platform";
import { createChallengePage } from "./challenge-page.js";
import type { StripeEmulatorConfig } from "./config.js";
import { type Clock, systemClock } from "./domain/clock.js";
import { isStripeApiError, type StripeApiError, stripeErrors } from "./domain/stripe-error.js";
import { createEmulatorRoutes } from "./emulator-routes.js";
import { canonicalJson, type FormParams, parseFormParams } from "./form-params.js";
import { createIdempotencyStore, type RecordedResponse } from "./idempotency-store.js";
import { readParams } from "./param-readers.js";
import { createPaymentStore } from "./payment-store.js";
import { createStripeApi } from "./stripe-api.js";
import { newStripeId } from "./stripe-ids.js";
import { createWebhookDispatcher, type WebhookEndpointConfig } from "./webhook-dispatcher.js";

/** A call about to execute, as `beforeExecute` sees it. */
export interface EmulatedCall {
  method: string;
  path: string;
  idempotencyKey: string | null;
}

/** What tests vary about an emulator; `main.ts` passes none of them. */
export interface StripeEmulatorOverrides {
  /** Time for `created` fields, idempotency-key expiry (24 h) and webhook signatures. Default: the system clock. */
  clock?: Clock;
  /** Endpoints beside SHOP_STRIPE_EMULATOR_WEBHOOKS, for tests that start their receiver first. */
  webhookEndpoints?: WebhookEndpointConfig[];
  /**
   * Runs before each API call executes, once its idempotency key is claimed: a test holds it to make calls overlap or
   * to play a slow Stripe. Default: none.
   */
  beforeExecute?: (call: EmulatedCall) => Promise<void> | void;
  /** Default: JSON lines on stdout at SHOP_LOG_LEVEL. */
  logger?: Logger;
}

/** A running emulator's address. */
export interface StripeEmulatorAddress {
  url: string;
  port: number;
}

/** The Stripe emulator: `start` listens, `stop` closes connections and cancels webhook retries. */
export interface StripeEmulator {
  start(): Promise<StripeEmulatorAddress>;
  stop(): Promise<void>;
}

const challengePath = /^\/3d_secure\/(3ds_[A-Za-z0-9]+)$/;

/** Refusal of a body that grew past the cap; the connection is closed after the answer. */
class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The key of `Authorization: Bearer <key>` or of Basic auth (`<key>:`), as Stripe takes both. */
function presentedKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() === "bearer") return value;
  if (scheme?.toLowerCase() === "basic") return Buffer.from(value, "base64").toString("utf8").split(":")[0];
  return undefined;
}

function mask(key: string): string {
  return key.length <= 12 ? "****" : `${key.slice(0, 8)}${"*".repeat(8)}${key.slice(-4)}`;
}

/**
 * Builds the emulator: Stripe's PaymentIntents, refunds, charges, events and webhook endpoints over form-encoded
 * HTTP, with idempotency keys, signed webhooks, the 3-D Secure page and the `/_emulator/` routes for tests.
 * main.ts and the tests start it through this function; everything is kept in memory.
 */
export function createStripeEmulator(
  config: StripeEmulatorConfig,
  overrides: StripeEmulatorOverrides = {},
): StripeEmulator {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger("stripe-emulator", config.SHOP_LOG_LEVEL);
  const maxBytes = config.SHOP_STRIPE_EMULATOR_MAX_REQUEST_BYTES;
  const expectedKeyHash = sha256(config.SHOP_STRIPE_EMULATOR_SECRET_KEY);
  let publicUrl = config.SHOP_STRIPE_EMULATOR_PUBLIC_URL;

  const store = createPaymentStore();
  const idempotency = createIdempotencyStore(clock);
  const dispatcher = createWebhookDispatcher({
    clock,
    retryDelaysMs: config.SHOP_STRIPE_EMULATOR_WEBHOOK_RETRY_DELAYS_MS,
    timeoutMs: config.SHOP_STRIPE_EMULATOR_WEBHOOK_TIMEOUT_MS,
    logger,
  });
  for (const endpoint of [...config.SHOP_STRIPE_EMULATOR_WEBHOOKS, ...(overrides.webhookEndpoints ?? [])]) {
    dispatcher.addEndpoint(endpoint);
  }
  const api = createStripeApi({
    store,
    dispatcher,
    clock,
    apiVersion: config.SHOP_STRIPE_EMULATOR_API_VERSION,
    challengeUrl: (id) => `${publicUrl}/3d_secure/${id}`,
  });
  const challengePage = createChallengePage(api);
  const emulatorRoutes = createEmulatorRoutes({ store, idempotency, dispatcher });

  function authenticate(req: IncomingMessage): void {
    const key = presentedKey(req.headers.authorization);
    if (key === undefined || key === "") throw stripeErrors.noApiKey();
    if (!timingSafeEqual(sha256(key), expectedKeyHash)) throw stripeErrors.invalidApiKey(mask(key));
  }

  function bodyParams(req: IncomingMessage, body: string): FormParams {
    if (body === "") return {};
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") {
      throw stripeErrors.malformedBody(
        `Send parameters form-encoded (Content-Type: application/x-www-form-urlencoded), not ${type || "untyped"}.`,
      );
    }
    return parseFormParams(body);
  }

  function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-cache, no-store", ...headers });
    res.end(body);
  }

  const errorJson = (err: StripeApiError) => JSON.stringify({ error: err.body }, null, 2);

  /** Runs one API call under its idempotency key, if it has one; answers with the result or the Stripe error. */
  async function execute(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    path: string,
    params: FormParams,
  ): Promise<number> {
    const method = req.method ?? "GET";
    const handler = api.match(method, path);
    if (handler === undefined) throw stripeErrors.unrecognizedUrl(method, path);
    const rawKey = req.headers["idempotency-key"];
    const key = method === "POST" && typeof rawKey === "string" && rawKey !== "" ? rawKey : null;
    if (key !== null) {
      res.setHeader("Idempotency-Key", key);
      const decision = idempotency.begin(key, `${method} ${path} ${canonicalJson(params)}`);
      if (decision.kind === "replay") {
        const recorded = decision.response;
        sendJson(res, recorded.status, recorded.body, {
          "Idempotent-Replayed": "true",
          "Original-Request": recorded.requestId,
        });
        return recorded.status;
      }
    }
    let answer: RecordedResponse;
    try {
      await overrides.beforeExecute?.({ method, path, idempotencyKey: key });
      const result = handler({ params: readParams(params), pathIds: [], requestId, idempotencyKey: key });
      answer = { status: 200, body: JSON.stringify(result, null, 2), requestId };
    } catch (err) {
      let failure: StripeApiError;
      if (isStripeApiError(err)) {
        failure = err;
      } else {
        logger.error({ err, method, path, requestId }, "request failed");
        failure = stripeErrors.internal();
      }
      answer = { status: failure.status, body: errorJson(failure), requestId };
      if (key !== null && !failure.recorded) {
        idempotency.release(key);
        sendJson(res, answer.status, answer.body);
        return answer.status;
      }
    }
    if (key !== null) idempotency.complete(key, answer);
    sendJson(res, answer.status, answer.body);
    return answer.status;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = newStripeId("req");
    const method = req.method ?? "GET";
    let status = 500;
    let path = "/";
    try {
      const url = new URL(req.url ?? "/", "http://emulator.invalid");
      path = url.pathname;
      if ((path === "/healthz" || path === "/readyz") && method === "GET") {
        res.writeHead((status = 200), { "Content-Type": "text/plain" }).end("ok\n");
        return;
      }
      const challenge = challengePath.exec(path);
      if (challenge !== null && (method === "GET" || method === "POST")) {
        const body = method === "POST" ? await readBody(req, 16 * 1024) : "";
        const choice = method === "POST" ? new URLSearchParams(body).get("outcome") : null;
        const returnUrl = url.searchParams.get("return_url");
        const answer =
          method === "GET"
            ? challengePage.show(challenge[1] as string, returnUrl)
            : challengePage.submit(challenge[1] as string, choice ?? undefined, returnUrl);
        res.writeHead((status = answer.status), answer.headers).end(answer.html);
        return;
      }
      res.setHeader("Request-Id", requestId);
      const version = req.headers["stripe-version"];
      res.setHeader("Stripe-Version", typeof version === "string" ? version : config.SHOP_STRIPE_EMULATOR_API_VERSION);
      const body = await readBody(req, maxBytes);
      authenticate(req);
      if (path.startsWith("/_emulator/")) {
        const result = emulatorRoutes(method, path, parseFormParams(url.search.slice(1)));
        if (result === undefined) throw stripeErrors.unrecognizedUrl(method, path);
        sendJson(res, (status = 200), JSON.stringify(result, null, 2));
        return;
      }
      const params = method === "POST" ? bodyParams(req, body) : parseFormParams(url.search.slice(1));
      status = await execute(req, res, requestId, path, params);
    } catch (err) {
      let failure: StripeApiError;
      if (err instanceof BodyTooLarge) {
        failure = stripeErrors.bodyTooLarge(maxBytes);
        // The rest of the body is not read: close the connection once the answer is out.
        res.setHeader("Connection", "close");
      } else if (isStripeApiError(err)) {
        failure = err;
      } else {
        logger.error({ err, method, path, requestId }, "request failed");
        failure = stripeErrors.internal();
      }
      status = failure.status;
      if (!res.headersSent) sendJson(res, status, errorJson(failure));
      else res.destroy();
    } finally {
      logger.debug(
        { method, path, status, requestId, ms: Math.round(performance.now() - started) },
        "stripe emulator request",
      );
    }
  }

  let server: Server | undefined;

  return {
    async start() {
      const listening = createServer((req, res) => {
        handle(req, res).catch((err) => {
          logger.error({ err }, "request handling failed");
          res.destroy();
        });
      });
      // A request Node cannot even parse gets a bare 400, never a crash.
      listening.on("clientError", (_err, socket) => {
        if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        else socket.destroy();
      });
      await new Promise<void>((resolve, reject) => {
        listening.once("error", reject);
        listening.listen(config.SHOP_STRIPE_EMULATOR_PORT, config.SHOP_STRIPE_EMULATOR_HOST, () => {
          listening.off("error", reject);
          resolve();
        });
      });
      server = listening;
      const { port } = listening.address() as AddressInfo;
      const host = config.SHOP_STRIPE_EMULATOR_HOST;
      const reachableHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
      const url = `http://${reachableHost}:${port}`;
      if (publicUrl === "") publicUrl = url;
      logger.info({ url, webhookEndpoints: dispatcher.endpoints().length }, "stripe emulator listening");
      return { url, port };
    },
    async stop() {
      const closing = server;
      server = undefined;
      await dispatcher.stop();
      if (closing === undefined) return;
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        closing.closeAllConnections();
      });
    },
  };
}
