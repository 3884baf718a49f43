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

export interface UpstreamProxy {
  /** Forwards a call; gRPC goes over HTTP/2, Connect and gRPC-web over pooled HTTP/1.1 keep-alive connections. */
  forward(req: Request, res: Response, upstream: string, extraHeaders: Record<string, string>): void;
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

  const forwardHttp1 = (req: Request, res: Response, upstream: string, extraHeaders: Record<string, string>) => {
    const upstreamReq = http.request(new URL(req.url ?? "/", upstream), {
      method: req.method,
      headers: { ...forwardable(req.headers), ...extraHeaders },
      agent,
    });
    upstreamReq.on("response", (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, { ...forwardable(upstreamRes.headers), ...extraHeaders });
      upstreamRes.pipe(res as NodeJS.WritableStream);
    });
    upstreamReq.on("error", () => unavailable(req, res, extraHeaders));
    req.pipe(upstreamReq);
  };

  const forwardHttp2 = (req: Request, res: Response, upstream: string, extraHeaders: Record<string, string>) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = sessionFor(upstream).request({
        ...forwardable(req.headers),
        ...extraHeaders,
        ":method": req.method ?? "POST",
        ":path": req.url ?? "/",
        te: "trailers",
      });
    } catch {
      unavailable(req, res, extraHeaders);
      return;
    }
    stream.on("response", (headers) => {
      const status = Number(headers[":status"] ?? 502);
      res.writeHead(status, { ...forwardable(headers), ...extraHeaders });
    });
    stream.on("trailers", (trailers) => (res as Http2ServerResponse).addTrailers(forwardable(trailers) as never));
    stream.on("data", (chunk: Buffer) => (res as ServerResponse).write(chunk));
    stream.on("end", () => res.end());
    stream.on("error", () => unavailable(req, res, extraHeaders));
    res.on("close", () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    req.pipe(stream);
  };

  return {
    forward(req, res, upstream, extraHeaders) {
      const contentType = String(req.headers["content-type"] ?? "");
      const isGrpc = contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web");
      (isGrpc ? forwardHttp2 : forwardHttp1)(req, res, upstream, extraHeaders);
    },
    close() {
      agent.destroy();
      for (const session of sessions.values()) session.close();
    },
  };
}
