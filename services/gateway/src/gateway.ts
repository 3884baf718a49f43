import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type AnyRequest,
  type AnyResponse,
  type AuthOptions,
  authorizeCall,
  clampDeadline,
  createMetricsRegistry,
  createProbeHandler,
  drainRefusedBody,
  type Logger,
  type Platform,
  refusedBodyDrain,
  retryLaterError,
  setDeadline,
  startDualProtocolServer,
} from "@shop/platform";
import { Redis } from "ioredis";
import { Counter, Histogram } from "prom-client";
import { type CallerRateLimit, createCallerRateLimit } from "./caller-rate-limit.js";
import type { GatewayConfig } from "./config.js";
import { createCorsPolicy } from "./cors-policy.js";
import { writeProtocolError } from "./protocol-errors.js";
import { readRequestBody } from "./request-body.js";
import { createRouteTable, type Upstreams } from "./route-table.js";
import { createUpstreamProxy } from "./upstream-proxy.js";

export interface GatewayOptions {
  port: number;
  host: string;
  logger: Logger;
  upstreams: Upstreams;
  /** How long a replica that refused a connection gets no calls while others answer. Default 5 s. */
  upstreamKeepOutMs?: number;
  corsOrigins: string[];
  auth: AuthOptions;
  /** Largest request body forwarded; larger ones are refused with ResourceExhausted before anything is forwarded. */
  maxRequestBytes: number;
  /** Longest a call may run through the gateway, whatever deadline the caller asks for. */
  maxTimeoutMs: number;
  /** Per-caller budgets; none means unlimited (tests of other behaviour). */
  rateLimit?: CallerRateLimit;
  /** Proxies in front of the gateway whose `x-forwarded-for` entries are trusted to name the client. Default 0. */
  trustedProxyHops?: number;
  shutdownTimeoutMs?: number;
  onShutdown?: Array<() => Promise<void> | void>;
}

export interface RunningGateway {
  url: string;
  port: number;
  shutdown(): Promise<void>;
}

/** The only request headers the gateway reads itself (credentials, deadline, protocol); the rest pass through. */
const readHeaders = ["content-type", "authorization", "x-api-key", "grpc-timeout", "connect-timeout-ms"];

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const name of readHeaders) {
    const value = incoming[name];
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

/** The client's address: the socket's peer, or the entry a trusted proxy appended to `x-forwarded-for`. */
function clientAddress(req: AnyRequest, trustedProxyHops: number): string {
  const peer = (req.socket?.remoteAddress ?? "").replace(/^::ffff:/, "");
  if (trustedProxyHops <= 0) return peer;
  const forwarded = String(req.headers["x-forwarded-for"] ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  return forwarded[forwarded.length - trustedProxyHops] ?? peer;
}

const timeoutHeaders = ["grpc-timeout", "connect-timeout-ms"];

/**
 * One origin in front of every service: answers CORS preflights, refuses calls outside the contract, not allowed by
 * its access rules, over a caller's rate budget, larger than the body cap or past their deadline (each in the
 * caller's protocol), and forwards the rest to the owning service with `x-request-id` and the deadline it runs under.
 * Services authorize and limit again themselves: the gateway is the first line, not the only one.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  const route = createRouteTable(options.upstreams, { keepOutMs: options.upstreamKeepOutMs });
  const cors = createCorsPolicy(options.corsOrigins);
  const metrics = createMetricsRegistry("gateway");
  // Per replica: whether calls reach it, and how many it refused (each tried on the next replica) or lost mid-call.
  const attempts = new Counter({
    name: "gateway_upstream_attempts_total",
    help: "Calls sent to each upstream replica by outcome: answered, refused (tried on the next replica) or failed",
    labelNames: ["upstream", "outcome"] as const,
    registers: [metrics],
  });
  const proxy = createUpstreamProxy({ onAttempt: (upstream, outcome) => attempts.inc({ upstream, outcome }) });
  const durations = new Histogram({
    name: "gateway_request_duration_seconds",
    help: "Time from request to response headers by upstream service and HTTP status",
    labelNames: ["service", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });
  let draining = () => false;
  const probes = createProbeHandler(async () => !draining(), metrics);

  const handle = async (req: AnyRequest, res: AnyResponse) => {
    const corsHeaders = cors.headersFor(req.headers);
    const contentType = String(req.headers["content-type"] ?? "");
    if (req.method === "OPTIONS") {
      const preflight = cors.preflightHeaders(req.headers);
      (res as ServerResponse).writeHead(Object.keys(preflight).length ? 204 : 403, preflight).end();
      return;
    }
    const path = req.url ?? "/";
    const target = req.method === "POST" || req.method === "GET" ? route(path) : undefined;
    if (target === undefined) {
      if (req.method === "GET" && /^\/(healthz|readyz|metrics)/.test(path)) return void probes(req, res);
      const error = new ConnectError(`no service answers ${path.split("?")[0]}`, Code.Unimplemented);
      writeProtocolError(contentType, res, error, corsHeaders);
      return;
    }
    const requestId = String(req.headers["x-request-id"] ?? "").slice(0, 128) || randomUUID();
    const extraHeaders: Record<string, string> = { ...corsHeaders, "x-request-id": requestId };
    const refuse = (err: unknown) => writeProtocolError(contentType, res, ConnectError.from(err), extraHeaders);

    const header = toHeaders(req.headers);
    const timeoutMs = clampDeadline(header, options.maxTimeoutMs) ?? setDeadline(header, options.maxTimeoutMs);
    if (Number.isNaN(timeoutMs)) return refuse(new ConnectError("malformed deadline header", Code.InvalidArgument));
    let cancelUpstream: () => void = () => undefined;
    const deadline = setTimeout(() => {
      cancelUpstream();
      refuse(new ConnectError(`the call ran past its ${timeoutMs} ms deadline`, Code.DeadlineExceeded));
    }, timeoutMs);
    res.once("close", () => clearTimeout(deadline));

    let body: Buffer;
    try {
      const principal = await authorizeCall(target.method, header, options.auth);
      const waitMs = await options.rateLimit?.take({
        subject: principal.subject,
        address: clientAddress(req, options.trustedProxyHops ?? 0),
      });
      if (waitMs !== undefined) {
        const error = retryLaterError("too many calls: wait before trying again", waitMs);
        extraHeaders["retry-after"] = String(Math.ceil(waitMs / 1000));
        throw error;
      }
      body = await readRequestBody(req, options.maxRequestBytes);
    } catch (err) {
      clearTimeout(deadline);
      // What is left of a refused body is read and dropped (a bounded amount) so the caller reads the refusal; a
      // larger one closes the HTTP/1.1 connection.
      if (ConnectError.from(err).code === Code.ResourceExhausted && !req.readableEnded) {
        const limit = refusedBodyDrain.bytesPerCapByte * options.maxRequestBytes;
        const declared = Number(req.headers["content-length"]);
        if (Number.isFinite(declared) && declared > limit) {
          if (req.httpVersionMajor === 1) extraHeaders.connection = "close";
        } else void drainRefusedBody(req, limit, refusedBodyDrain.ms);
      }
      refuse(err);
      return;
    }
    if (res.writableEnded) return; // the deadline passed while the body arrived

    const started = performance.now();
    res.once("finish", () => {
      durations.observe(
        { service: target.method.parent.typeName, status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
    const upstreamHeaders: Record<string, string> = {};
    for (const name of timeoutHeaders) {
      const value = header.get(name);
      if (value !== null) upstreamHeaders[name] = value;
    }
    cancelUpstream = proxy.forward(req, res, target.replicas, body, extraHeaders, upstreamHeaders);
  };

  const server = await startDualProtocolServer(
    (req, res) => {
      handle(req, res).catch((err) => {
        logger.error({ err }, "gateway failed to handle a request");
        if (!res.headersSent) res.destroy();
      });
    },
    {
      port: options.port,
      host: options.host,
      logger,
      shutdownTimeoutMs: options.shutdownTimeoutMs,
      onShutdown: [() => proxy.close(), ...(options.onShutdown ?? [])],
    },
  );
  draining = server.isDraining;
  logger.info(
    { url: server.url, upstreams: options.upstreams, rateLimit: options.rateLimit?.describe() ?? "unlimited" },
    "gateway serving",
  );
  return { url: server.url, port: server.port, shutdown: server.shutdown };
}

/** What tests vary about a gateway; a deployment passes none of them. */
export interface GatewayOverrides {
  /** Upstreams by domain instead of the SHOP_UPSTREAM_* variables (tests point them at in-process services). */
  upstreams?: Upstreams;
}

/** A gateway instance, shaped like the services' `ShopService`: start serves it, stop ends it and its platform. */
export interface Gateway {
  start(): Promise<RunningGateway>;
  stop(): Promise<void>;
  ready: Promise<void>;
}

/**
 * Builds the gateway on a platform (whose API keys and token keys it authenticates with) and its configuration:
 * upstreams, CORS, body and deadline limits, and rate limits counted in Redis. main.ts, the tests and the
 * benchmarks all start the gateway through this function.
 */
export function createGateway(platform: Platform, config: GatewayConfig, overrides: GatewayOverrides = {}): Gateway {
  const redis = new Redis(config.SHOP_REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Calls that arrive together share one write to Redis instead of one each.
    enableAutoPipelining: true,
  });
  redis.on("error", (err) =>
    platform.logger.warn({ err: err.message }, "rate-limit store unreachable; counting in memory"),
  );
  void redis.connect().catch(() => undefined);
  const rateLimit = createCallerRateLimit({
    redis,
    keyPrefix: config.SHOP_REDIS_PREFIX || (config.SHOP_NAMESPACE ? `${config.SHOP_NAMESPACE}:` : ""),
    perCredential: config.SHOP_RATE_LIMIT_PER_CREDENTIAL,
    anonymousPerAddress: config.SHOP_RATE_LIMIT_ANONYMOUS,
    windowSeconds: config.SHOP_RATE_LIMIT_WINDOW_S,
  });
  let serving: Promise<RunningGateway> | undefined;
  let stopping: Promise<void> | undefined;
  const closeOwn = async () => {
    redis.disconnect();
    await platform.close();
  };
  return {
    ready: Promise.resolve(),
    start() {
      if (stopping) return Promise.reject(new Error("gateway was stopped; create it again"));
      serving ??= startGateway({
        port: config.SHOP_PORT,
        host: config.SHOP_HOST,
        logger: platform.logger,
        upstreams: overrides.upstreams ?? {
          products: config.SHOP_UPSTREAM_PRODUCTS,
          identity: config.SHOP_UPSTREAM_PRODUCTS,
          search: config.SHOP_UPSTREAM_SEARCH,
          inventory: config.SHOP_UPSTREAM_INVENTORY,
          orders: config.SHOP_UPSTREAM_ORDERS,
        },
        corsOrigins: config.SHOP_CORS_ORIGINS.split(",").map((origin) => origin.trim()),
        auth: platform.auth,
        maxRequestBytes: config.SHOP_MAX_REQUEST_BYTES,
        maxTimeoutMs: config.SHOP_MAX_TIMEOUT_MS,
        upstreamKeepOutMs: config.SHOP_UPSTREAM_KEEP_OUT_MS,
        rateLimit,
        trustedProxyHops: config.SHOP_TRUSTED_PROXY_HOPS,
        shutdownTimeoutMs: config.SHOP_SHUTDOWN_TIMEOUT_MS,
        onShutdown: [closeOwn],
      });
      return serving;
    },
    stop() {
      stopping ??= (async () => {
        const running = await serving?.catch(() => undefined);
        if (running) await running.shutdown();
        else await closeOwn();
      })();
      return stopping;
    },
  };
}
