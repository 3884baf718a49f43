import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { AuthOptions } from "../auth/authorize.js";
import { authInterceptor } from "../interceptors/auth-interceptor.js";
import { deadlineInterceptor } from "../interceptors/deadline-interceptor.js";
import { errorInterceptor } from "../interceptors/error-interceptor.js";
import { observeInterceptor } from "../interceptors/observe-interceptor.js";
import { validationInterceptor } from "../interceptors/validation-interceptor.js";
import type { Logger } from "../logger.js";
import { type AnyRequest, type AnyResponse, startDualProtocolServer } from "./dual-protocol-server.js";
import { HealthService, registerHealth } from "./health-service.js";
import { createProbeHandler } from "./probes.js";
import { createRpcHandler, defaultMaxRequestBytes } from "./rpc-handler.js";

/** What a service hands to the platform: its routes and the hooks the platform calls around them. */
export interface ServiceDefinition {
  /** Short name used in logs and metrics, e.g. "products". */
  name: string;
  /** Registers the service's Connect implementations: `router.service(ProductService, impl)`. */
  routes: (router: ConnectRouter) => void;
  /** Extra readiness check for /readyz and Health (e.g. database reachable). Default: always ready. */
  isReady?: () => boolean | Promise<boolean>;
  /** Called in order after in-flight requests finished on shutdown: drain consumers, close pools. */
  onShutdown?: Array<() => Promise<void> | void>;
  /** Interceptors that run innermost, after auth and validation. */
  interceptors?: Interceptor[];
  /**
   * Plain HTTP routes served on the same port, by exact path (e.g. "/webhooks/stripe" for a payment provider that
   * posts signed raw bodies). They bypass the Connect interceptors: the handler authenticates and caps what it reads.
   * Default: none.
   */
  httpRoutes?: Record<string, (req: AnyRequest, res: AnyResponse) => void | Promise<void>>;
}

export interface ServeOptions {
  port: number;
  host: string;
  logger: Logger;
  /** API keys and token verifier (`platform.auth`); Health is added to the public services. */
  auth: AuthOptions;
  /** How long shutdown waits for in-flight requests before cutting connections. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Largest request body accepted (ResourceExhausted beyond). Default 4 MiB, as gRPC. */
  maxRequestBytes?: number;
  /** Longest a call may run, whatever deadline the caller asks for. Default 30 s. */
  maxTimeoutMs?: number;
  /** The registry served at /metrics, which the RPC durations join. Default: a new one, named after the service. */
  metrics?: Registry;
}

export interface RunningService {
  /** `http://host:port`, for every protocol. */
  url: string;
  port: number;
  metrics: Registry;
  /** Stop accepting, let in-flight requests finish, then run the service's shutdown hooks. Idempotent. */
  shutdown(): Promise<void>;
}

/** A metrics registry labelled with the service name, with the process's default metrics. */
export function createMetricsRegistry(service: string): Registry {
  const metrics = new Registry();
  metrics.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metrics });
  return metrics;
}

/** Serves Connect, gRPC and gRPC-web on one port, with health, readiness, metrics and graceful shutdown. */
export async function serve(definition: ServiceDefinition, options: ServeOptions): Promise<RunningService> {
  const { logger } = options;
  const metrics = options.metrics ?? createMetricsRegistry(definition.name);
  const durations = new Histogram({
    name: "rpc_server_duration_seconds",
    help: "RPC handling time by method and outcome code",
    labelNames: ["method", "code"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });

  let draining = () => false;
  let lastReady = true;
  const isReady = async () => {
    lastReady = !draining() && (definition.isReady ? await definition.isReady() : true);
    return lastReady;
  };
  const probes = createProbeHandler(isReady, metrics);

  const maxTimeoutMs = options.maxTimeoutMs ?? 30_000;
  const connectHandler = createRpcHandler({
    maxRequestBytes: options.maxRequestBytes ?? defaultMaxRequestBytes,
    maxTimeoutMs,
    routes: (router) => {
      registerHealth(router, () => !draining() && lastReady);
      definition.routes(router);
    },
    interceptors: [
      errorInterceptor(logger),
      observeInterceptor(logger, durations),
      authInterceptor({
        ...options.auth,
        publicServices: [...(options.auth.publicServices ?? []), HealthService.typeName],
      }),
      validationInterceptor(),
      deadlineInterceptor(maxTimeoutMs),
      ...(definition.interceptors ?? []),
    ],
    fallback: (req, res) => {
      const route = definition.httpRoutes?.[(req.url ?? "").split("?", 1)[0] ?? ""];
      if (route === undefined) return void probes(req, res);
      Promise.resolve()
        .then(() => route(req, res))
        .catch((err: unknown) => {
          logger.error({ err, path: req.url }, "http route failed");
          if (!res.headersSent) (res as import("node:http").ServerResponse).writeHead(500).end();
        });
    },
  });

  const server = await startDualProtocolServer(connectHandler, {
    port: options.port,
    host: options.host,
    logger,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    onShutdown: definition.onShutdown,
  });
  draining = server.isDraining;
  logger.info({ url: server.url }, `${definition.name} serving Connect, gRPC and gRPC-web`);
  return { url: server.url, port: server.port, metrics, shutdown: server.shutdown };
}

/** Shuts the service down on SIGTERM/SIGINT and exits; a second signal exits at once. */
export function exitOnSignals(running: Pick<RunningService, "shutdown">, logger: Logger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    logger.info({ signal }, "signal received");
    running.shutdown().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
