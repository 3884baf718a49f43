import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService } from "../src/testing/index.js";
import { fakeProductService } from "./fixtures/fake-product-service.js";

const fake = fakeProductService();
let server: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  server = await startTestService({
    name: "fake-with-http-routes",
    routes: fake.routes,
    httpRoutes: {
      "/hooks/echo": (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => void res.writeHead(200).end(Buffer.concat(chunks)));
      },
      "/hooks/broken": async () => {
        throw new Error("boom");
      },
    },
  });
});
afterAll(() => server.shutdown());

describe("plain HTTP routes next to Connect", () => {
  it("hands the raw body of a POST to the route of its exact path, query ignored", async () => {
    const response = await fetch(`${server.url}/hooks/echo?x=1`, { method: "POST", body: "raw bytes" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("raw bytes");
  });

  it("answers 500 when a route throws, and keeps the probes and 404s as they were", async () => {
    expect((await fetch(`${server.url}/hooks/broken`, { method: "POST" })).status).toBe(500);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/hooks/other`)).status).toBe(404);
  });
});
