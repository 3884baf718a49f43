import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

/** What the server saw of one call: which method, and the headers that arrived with it. */
export interface SeenCall {
  method: string;
  contentType: string;
  authorization: string | undefined;
}

/**
 * A real HTTP server speaking Connect, gRPC and gRPC-web (connect-node), with the handlers a test gives it. It can be
 * stopped and started again on the same port, to be unreachable for a while as a restarting service is.
 */
export interface TestServer {
  url: string;
  calls: SeenCall[];
  /** Calls seen of one method, e.g. "GetOrder". */
  callsOf(method: string): SeenCall[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startTestServer(routes: (router: ConnectRouter) => void): Promise<TestServer> {
  const calls: SeenCall[] = [];
  const handler = connectNodeAdapter({
    routes,
    interceptors: [
      (next) => (req) => {
        calls.push({
          method: req.method.name,
          contentType: req.header.get("content-type") ?? "",
          authorization: req.header.get("authorization") ?? undefined,
        });
        return next(req);
      },
    ],
  });
  let server: Server | undefined;
  let port = 0;
  const start = async () => {
    const listening = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      listening.once("error", reject);
      listening.listen(port, "127.0.0.1", resolve);
    });
    port = (listening.address() as AddressInfo).port;
    server = listening;
  };
  const stop = async () => {
    const closing = server;
    server = undefined;
    if (closing === undefined) return;
    closing.closeAllConnections();
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsOf: (method) => calls.filter((call) => call.method === method),
    stop,
    start,
  };
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts: a handler that is slow but honours cancellation. */
export function slowly(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
