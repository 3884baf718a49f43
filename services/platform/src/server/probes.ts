import type { Registry } from "prom-client";
import type { AnyRequest, AnyResponse } from "./dual-protocol-server.js";

/** `/healthz` (alive), `/readyz` (ready for traffic) and Prometheus `/metrics`; anything else is a 404. */
export function createProbeHandler(isReady: () => Promise<boolean>, metrics: Registry) {
  return async (req: AnyRequest, res: AnyResponse): Promise<void> => {
    const path = (req.url ?? "").split("?")[0];
    const reply = (status: number, contentType: string, body: string) =>
      void (res as import("node:http").ServerResponse).writeHead(status, { "content-type": contentType }).end(body);
    if (path === "/healthz") return reply(200, "text/plain", "ok\n");
    if (path === "/readyz") {
      const ready = await isReady();
      return reply(ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
    }
    if (path === "/metrics") return reply(200, metrics.contentType, await metrics.metrics());
    reply(404, "text/plain", "not found\n");
  };
}
