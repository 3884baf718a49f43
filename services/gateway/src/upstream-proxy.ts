import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import http2, { type ClientHttp2Session, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { isConnectionRefused, type ReplicaRotation } from "@shop/platform";
import { type Dispatcher, Pool } from "undici";
import { writeProtocolError } from "./protocol-errors.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** Headers that belong to one hop and must not be forwarded (HTTP/2 forbids them outright). */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "http2-settings",
  // Answered by this hop: the gateway reads the whole body before it forwards anything.
  "expect",
]);

/** `headers` without pseudo and hop-by-hop ones, then `extra` on top: one object per call, built in one pass. */
function forwardable(headers: IncomingHttpHeaders, ...extra: Record<string, string>[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name[0] === ":" || hopByHop.has(name)) continue;
    out[name] = value;
  }
  for (const more of extra) Object.assign(out, more);
  return out;
}

/** Cancels a forwarded call that is still running (its deadline passed); does nothing once it finished. */
export type CancelForward = () => void;

/** What became of one attempt to reach a replica: it answered, refused the connection, or failed after the send. */
export type UpstreamAttempt = "answered" | "refused" | "failed";

/** How one attempt ends: `answered` once response headers arrive, `failed` with the error otherwise. */
interface AttemptEnd {
  answered(): void;
  failed(err: unknown): void;
}

/**
 * Sends a call whose body was already read to one replica. `extraHeaders` go both ways (request id, CORS);
 * `upstreamHeaders` only to the service (the deadline it runs under).
 */
type Send = (
  req: Request,
  res: Response,
  upstream: string,
  body: Buffer,
  extraHeaders: Record<string, string>,
  upstreamHeaders: Record<string, string>,
  end: AttemptEnd,
) => CancelForward;

export interface UpstreamProxy {
  /**
   * Forwards a call to the next replica of `replicas`, and to the one after while replicas refuse the connection
   * (nothing was sent, so any call may go elsewhere). A call that broke after it was sent is answered Unavailable and
   * never sent again: the client decides, with its idempotency key. gRPC goes over HTTP/2, Connect and gRPC-web over
   * pooled HTTP/1.1 keep-alive connections.
   */
  forward(
    req: Request,
    res: Response,
    replicas: ReplicaRotation,
    body: Buffer,
    extraHeaders: Record<string, string>,
    upstreamHeaders: Record<string, string>,
  ): CancelForward;
  close(): void;
}

export interface UpstreamProxyOptions {
  /** Told of every attempt, for the per-replica metrics. Default: nobody. */
  onAttempt?: (upstream: string, outcome: UpstreamAttempt) => void;
}

export function createUpstreamProxy(options: UpstreamProxyOptions = {}): UpstreamProxy {
  const sessions = new Map<string, ClientHttp2Session>();
  const onAttempt = options.onAttempt ?? (() => undefined);

  const sessionFor = (origin: string): ClientHttp2Session => {
    const existing = sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(origin);
    const forget = () => {
      if (sessions.get(origin) === session) sessions.delete(origin);
    };
    session.on("error", forget);
    session.on("close", forget);
    sessions.set(origin, session);
    return session;
  };

  const unavailable = (req: Request, res: Response, extraHeaders: Record<string, string>) => {
    if (res.writableEnded) return; // already answered, e.g. as DeadlineExceeded before the call was cancelled
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const error = new ConnectError(
      "the service behind the gateway is not reachable; try again shortly",
      Code.Unavailable,
    );
    writeProtocolError(String(req.headers["content-type"] ?? ""), res, error, extraHeaders);
  };

  // Connect and gRPC-web go over undici's keep-alive pools: a call costs about half the CPU of http.request.
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (pool === undefined || pool.destroyed || pool.closed) {
      // No timers of undici's own per call: the gateway's deadline ends every call.
      pool = new Pool(origin, { connections: 256, headersTimeout: 0, bodyTimeout: 0 });
      pools.set(origin, pool);
    }
    return pool;
  };

  const sendHttp1: Send = (req, res, upstream, body, extraHeaders, upstreamHeaders, end) => {
    let abort: ((reason: Error) => void) | undefined;
    let cancelled = false;
    poolFor(upstream).dispatch(
      {
        path: req.url ?? "/",
        method: (req.method ?? "POST") as Dispatcher.HttpMethod,
        headers: forwardable(req.headers, extraHeaders, upstreamHeaders) as Record<string, string>,
        body,
      },
      {
        onRequestStart(controller) {
          if (cancelled) controller.abort(new Error("the call was cancelled"));
          else abort = (reason) => controller.abort(reason);
        },
        onResponseStart(_controller, statusCode, headers) {
          end.answered();
          res.writeHead(statusCode, forwardable(headers, extraHeaders));
        },
        onResponseData(controller, chunk) {
          if ((res as ServerResponse).write(chunk)) return;
          controller.pause();
          res.once("drain", () => controller.resume());
        },
        onResponseEnd() {
          res.end();
        },
        onResponseError(_controller, err) {
          end.failed(err);
        },
      },
    );
    return () => {
      cancelled = true;
      abort?.(new Error("the call was cancelled"));
    };
  };

  const sendHttp2: Send = (req, res, upstream, body, extraHeaders, upstreamHeaders, end) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = sessionFor(upstream).request(
        forwardable(req.headers, extraHeaders, upstreamHeaders, {
          ":method": req.method ?? "POST",
          ":path": req.url ?? "/",
          te: "trailers",
        }),
      );
    } catch (err) {
      end.failed(err);
      return () => undefined;
    }
    stream.on("response", (headers) => {
      end.answered();
      const status = Number(headers[":status"] ?? 502);
      res.writeHead(status, forwardable(headers, extraHeaders));
    });
    stream.on("trailers", (trailers) => (res as Http2ServerResponse).addTrailers(forwardable(trailers) as never));
    stream.on("data", (chunk: Buffer) => (res as ServerResponse).write(chunk));
    stream.on("end", () => res.end());
    stream.on("error", (err) => end.failed(err));
    const cancel = () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    res.on("close", cancel);
    stream.end(body);
    return cancel;
  };

  return {
    forward(req, res, replicas, body, extraHeaders, upstreamHeaders) {
      const contentType = String(req.headers["content-type"] ?? "");
      const isGrpc = contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web");
      const send = isGrpc ? sendHttp2 : sendHttp1;
      const candidates = replicas.next();
      let cancelled = false;
      let cancelAttempt: CancelForward = () => undefined;
      const attempt = (index: number) => {
        const upstream = candidates[index] as string;
        cancelAttempt = send(req, res, upstream, body, extraHeaders, upstreamHeaders, {
          answered: () => onAttempt(upstream, "answered"),
          failed: (err) => {
            if (cancelled || res.writableEnded) return;
            // Refused or broken off, the replica is likely down: later calls go to the others for a while.
            replicas.keepOut(upstream);
            if (isConnectionRefused(err)) {
              onAttempt(upstream, "refused");
              if (index + 1 < candidates.length && !res.headersSent) return attempt(index + 1);
            } else {
              onAttempt(upstream, "failed");
            }
            unavailable(req, res, extraHeaders);
          },
        });
      };
      attempt(0);
      return () => {
        cancelled = true;
        cancelAttempt();
      };
    },
    close() {
      for (const pool of pools.values()) void pool.destroy();
      for (const session of sessions.values()) session.close();
    },
  };
}
