import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import http2, { type ClientHttp2Session, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
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
]);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || hopByHop.has(name) || value === undefined) continue;
    out[name] = value;
  }
  return out;
}

/** Cancels a forwarded call that is still running (its deadline passed); does nothing once it finished. */
export type CancelForward = () => void;

/**
 * Forwards a call whose body was already read. `extraHeaders` go both ways (request id, CORS); `upstreamHeaders` only
 * to the service (the deadline it runs under).
 */
type Forward = (
  req: Request,
  res: Response,
  upstream: string,
  body: Buffer,
  extraHeaders: Record<string, string>,
  upstreamHeaders: Record<string, string>,
) => CancelForward;

export interface UpstreamProxy {
  /** gRPC goes over HTTP/2, Connect and gRPC-web over pooled HTTP/1.1 keep-alive connections. */
  forward: Forward;
  close(): void;
}

export function createUpstreamProxy(): UpstreamProxy {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const sessions = new Map<string, ClientHttp2Session>();

  const sessionFor = (origin: string): ClientHttp2Session => {
    const existing = sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(origin);
    session.on("error", () => sessions.delete(origin));
    session.on("close", () => sessions.delete(origin));
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

  const forwardHttp1: Forward = (req, res, upstream, body, extraHeaders, upstreamHeaders) => {
    const upstreamReq = http.request(new URL(req.url ?? "/", upstream), {
      method: req.method,
      headers: {
        ...forwardable(req.headers),
        ...extraHeaders,
        ...upstreamHeaders,
        "content-length": String(body.length),
      },
      agent,
    });
    upstreamReq.on("response", (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, { ...forwardable(upstreamRes.headers), ...extraHeaders });
      upstreamRes.pipe(res as NodeJS.WritableStream);
    });
    upstreamReq.on("error", () => unavailable(req, res, extraHeaders));
    upstreamReq.end(body);
    return () => upstreamReq.destroy();
  };

  const forwardHttp2: Forward = (req, res, upstream, body, extraHeaders, upstreamHeaders) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = sessionFor(upstream).request({
        ...forwardable(req.headers),
        ...extraHeaders,
        ...upstreamHeaders,
        ":method": req.method ?? "POST",
        ":path": req.url ?? "/",
        te: "trailers",
      });
    } catch {
      unavailable(req, res, extraHeaders);
      return () => undefined;
    }
    stream.on("response", (headers) => {
      const status = Number(headers[":status"] ?? 502);
      res.writeHead(status, { ...forwardable(headers), ...extraHeaders });
    });
    stream.on("trailers", (trailers) => (res as Http2ServerResponse).addTrailers(forwardable(trailers) as never));
    stream.on("data", (chunk: Buffer) => (res as ServerResponse).write(chunk));
    stream.on("end", () => res.end());
    stream.on("error", () => unavailable(req, res, extraHeaders));
    const cancel = () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    res.on("close", cancel);
    stream.end(body);
    return cancel;
  };

  return {
    forward(req, res, upstream, body, extraHeaders, upstreamHeaders) {
      const contentType = String(req.headers["content-type"] ?? "");
      const isGrpc = contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web");
      return (isGrpc ? forwardHttp2 : forwardHttp1)(req, res, upstream, body, extraHeaders, upstreamHeaders);
    },
    close() {
      agent.destroy();
      for (const session of sessions.values()) session.close();
    },
  };
}
