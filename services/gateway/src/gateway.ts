import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type AnyRequest,
  type AnyResponse,
  type ApiKeyRegistry,
  authorizeCall,
  createMetricsRegistry,
  createProbeHandler,
  type Logger,
  startDualProtocolServer,
} from "@shop/platform";
import { Histogram } from "prom-client";
import { createCorsPolicy } from "./cors-policy.js";
import { writeProtocolError } from "./protocol-errors.js";
import { createRouteTable, type Upstreams } from "./route-table.js";
import { createUpstreamProxy } from "./upstream-proxy.js";

export interface GatewayOptions {
  port: number;
  host: string;
  logger: Logger;
  upstreams: Upstreams;
  corsOrigins: string[];
  apiKeys: ApiKeyRegistry;
  tokenSecret: string;
  shutdownTimeoutMs?: number;
  onShutdown?: Array<() => Promise<void> | void>;
}

export interface RunningGateway {
  url: string;
  port: number;
  shutdown(): Promise<void>;
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(":") || value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

/**
 * One origin in front of every service: answers CORS preflights, refuses calls outside the contract or not allowed by
 * its access rules (in the caller's protocol), and forwards the rest to the owning service, adding `x-request-id`.
 * Services authorize again themselves: the gateway is the first line, not the only one.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  const route = createRouteTable(options.upstreams);
  const cors = createCorsPolicy(options.corsOrigins);
  const proxy = createUpstreamProxy();
  const metrics = createMetricsRegistry("gateway");
  const durations = new Histogram({
    name: "gateway_request_duration_seconds",
    help: "Time from request to response headers by upstream service and HTTP status",
    labelNames: ["service", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });
  let draining = () => false;
  const probes = createProbeHandler(async () => !draining(), metrics);

  const handle = (req: AnyRequest, res: AnyResponse) => {
    const corsHeaders = cors.headersFor(req.headers);
    if (req.method === "OPTIONS") {
      const preflight = cors.preflightHeaders(req.headers);
      (res as import("node:http").ServerResponse).writeHead(Object.keys(preflight).length ? 204 : 403, preflight).end();
      return;
    }
    const path = req.url ?? "/";
    const target = req.method === "POST" || req.method === "GET" ? route(path) : undefined;
    if (target === undefined) {
      if (req.method === "GET" && /^\/(healthz|readyz|metrics)/.test(path)) return void probes(req, res);
      const error = new ConnectError(`no service answers ${path.split("?")[0]}`, Code.Unimplemented);
      writeProtocolError(String(req.headers["content-type"] ?? ""), res, error, corsHeaders);
      return;
    }
    const requestId = String(req.headers["x-request-id"] ?? "").slice(0, 128) || randomUUID();
    const extraHeaders = { ...corsHeaders, "x-request-id": requestId };
    try {
      authorizeCall(target.method, toHeaders(req.headers), {
        apiKeys: options.apiKeys,
        tokenSecret: options.tokenSecret,
      });
    } catch (err) {
      writeProtocolError(String(req.headers["content-type"] ?? ""), res, ConnectError.from(err), extraHeaders);
      return;
    }
    const started = performance.now();
    res.once("finish", () => {
      durations.observe(
        { service: target.method.parent.typeName, status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
    proxy.forward(req, res, target.upstream, { "x-request-id": requestId, ...corsHeaders });
  };

  const server = await startDualProtocolServer(handle, {
    port: options.port,
    host: options.host,
    logger,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    onShutdown: [() => proxy.close(), ...(options.onShutdown ?? [])],
  });
  draining = server.isDraining;
  logger.info({ url: server.url, upstreams: options.upstreams }, "gateway serving");
  return { url: server.url, port: server.port, shutdown: server.shutdown };
}
