import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2Session } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { ApiKeyRegistry } from "../auth/api-keys.js";
import { authInterceptor } from "../interceptors/auth-interceptor.js";
import { errorInterceptor } from "../interceptors/error-interceptor.js";
import { observeInterceptor } from "../interceptors/observe-interceptor.js";
import { validationInterceptor } from "../interceptors/validation-interceptor.js";
import type { Logger } from "../logger.js";
import { HealthService, registerHealth } from "./health-service.js";
import { createSniffingListener } from "./protocol-sniffer.js";

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
}

export interface ServeOptions {
  port: number;
  host: string;
  logger: Logger;
  apiKeys: ApiKeyRegistry;
  tokenSecret: string;
  /** How long shutdown waits for in-flight requests before cutting connections. Default 10 s. */
  shutdownTimeoutMs?: number;
}

export interface RunningService {
  /** `http://host:port`, for every protocol. */
  url: string;
  port: number;
  metrics: Registry;
  /** Stop accepting, let in-flight requests finish, then run the service's shutdown hooks. Idempotent. */
  shutdown(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = Pick<ServerResponse, "writeHead" | "end" | "once">;

/** Serves Connect, gRPC and gRPC-web on one port, with health, readiness, metrics and graceful shutdown. */
export async function serve(definition: ServiceDefinition, options: ServeOptions): Promise<RunningService> {
  const { logger } = options;
  const metrics = new Registry();
  metrics.setDefaultLabels({ service: definition.name });
  collectDefaultMetrics({ register: metrics });
  const durations = new Histogram({
    name: "rpc_server_duration_seconds",
    help: "RPC handling time by method and outcome code",
    labelNames: ["method", "code"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });

  let draining = false;
  const isReady = async () => !draining && (definition.isReady ? await definition.isReady() : true);
  let lastReady = true;

  const interceptors: Interceptor[] = [
    errorInterceptor(logger),
    observeInterceptor(logger, durations),
    authInterceptor({
      apiKeys: options.apiKeys,
      tokenSecret: options.tokenSecret,
      publicServices: [HealthService.typeName],
    }),
    validationInterceptor(),
    ...(definition.interceptors ?? []),
  ];

  const probes = async (req: AnyRequest, res: AnyResponse) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (path === "/readyz") {
      lastReady = await isReady();
      return void res
        .writeHead(lastReady ? 200 : 503, { "content-type": "text/plain" })
        .end(lastReady ? "ready\n" : "not ready\n");
    }
    if (path === "/metrics") {
      const body = await metrics.metrics();
      return void res.writeHead(200, { "content-type": metrics.contentType }).end(body);
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  };

  const connectHandler = connectNodeAdapter({
    routes: (router) => {
      registerHealth(router, () => !draining && lastReady);
      definition.routes(router);
    },
    interceptors,
    fallback: (req, res) => void probes(req, res as unknown as AnyResponse),
  });

  let inFlight = 0;
  let idleWaiter: (() => void) | undefined;
  const handler = (req: AnyRequest, res: AnyResponse) => {
    inFlight++;
    if (draining && req.httpVersionMajor === 1) (res as ServerResponse).setHeader("connection", "close");
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) idleWaiter?.();
    });
    connectHandler(req as IncomingMessage, res as ServerResponse);
  };

  const http1 = http.createServer(handler as http.RequestListener);
  http1.keepAliveTimeout = 65_000;
  const h2 = http2.createServer({}, handler as never);
  const sessions = new Set<Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const http1Sockets = new Set<Socket>();
  http1.on("connection", (socket: Socket) => {
    http1Sockets.add(socket);
    socket.once("close", () => http1Sockets.delete(socket));
  });

  const listener = createSniffingListener(http1, h2);
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => resolve());
  });
  const { port } = listener.address() as AddressInfo;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  logger.info({ url }, `${definition.name} serving Connect, gRPC and gRPC-web`);

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () => {
    shutdownPromise ??= (async () => {
      draining = true;
      logger.info({ inFlight }, "shutting down: no new connections, finishing in-flight requests");
      listener.close();
      for (const session of sessions) session.close();
      for (const socket of http1Sockets) {
        // Idle keep-alive sockets can go now; busy ones close after their response (connection: close).
        if ((socket as Socket & { _httpMessage?: unknown })._httpMessage == null) socket.destroy();
      }
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          idleWaiter = resolve;
          setTimeout(resolve, options.shutdownTimeoutMs ?? 10_000).unref();
        });
      }
      for (const socket of http1Sockets) socket.destroy();
      for (const session of sessions) session.destroy();
      for (const hook of definition.onShutdown ?? []) {
        try {
          await hook();
        } catch (err) {
          logger.error({ err }, "shutdown hook failed");
        }
      }
      logger.info("shut down");
    })();
    return shutdownPromise;
  };

  return { url, port, metrics, shutdown };
}

/** Shuts the service down on SIGTERM/SIGINT and exits; a second signal exits at once. */
export function exitOnSignals(running: RunningService, logger: Logger): void {
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
