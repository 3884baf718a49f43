import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "../logger.js";
import { createSniffingListener } from "./protocol-sniffer.js";

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

export interface DualProtocolServerOptions {
  port: number;
  host: string;
  logger: Logger;
  /** How long shutdown waits for in-flight requests before cutting connections. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Called in order once in-flight requests finished (or the timeout passed). */
  onShutdown?: Array<() => Promise<void> | void>;
}

export interface DualProtocolServer {
  url: string;
  port: number;
  /** True from the moment shutdown starts: readiness turns false, new HTTP/1 responses close their connection. */
  isDraining(): boolean;
  /** Stop accepting, let in-flight requests finish, then run the shutdown hooks. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * HTTP/1.1 and cleartext HTTP/2 on one port with graceful shutdown: the lifecycle shared by every service and the
 * gateway, whatever handler they serve.
 */
export async function startDualProtocolServer(
  handler: (req: AnyRequest, res: AnyResponse) => void,
  options: DualProtocolServerOptions,
): Promise<DualProtocolServer> {
  const { logger } = options;
  let draining = false;
  let inFlight = 0;
  let idleWaiter: (() => void) | undefined;
  // One listener shared by every response ("close" comes once per response), not a closure per request.
  const onResponseClosed = () => {
    inFlight--;
    if (inFlight === 0) idleWaiter?.();
  };
  const tracked = (req: AnyRequest, res: AnyResponse) => {
    inFlight++;
    if (draining && req.httpVersionMajor === 1) (res as ServerResponse).setHeader("connection", "close");
    res.on("close", onResponseClosed);
    handler(req, res);
  };

  const http1 = http.createServer(tracked as http.RequestListener);
  http1.keepAliveTimeout = 65_000;
  const h2 = http2.createServer({}, tracked as never);
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
      for (const hook of options.onShutdown ?? []) {
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

  return { url, port, isDraining: () => draining, shutdown };
}
