import { Code } from "@connectrpc/connect";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import type { RunningService } from "@shop/platform";
import {
  allProtocols,
  clientFor,
  createTestEnv,
  errorOf,
  startTestService,
  type TestEnv,
  type TestKeys,
} from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayPlatform, startTestGateway } from "./support/gateway-harness.js";

const calls: string[] = [];
let env: TestEnv;
let upstream: RunningService & { keys: TestKeys };
let gateway: Awaited<ReturnType<typeof startTestGateway>>;

beforeAll(async () => {
  env = await createTestEnv();
  const setup = await gatewayPlatform(env, { SHOP_CORS_ORIGINS: "https://store.example" });
  const apiKeys = setup.platform.apiKeys;
  upstream = await startTestService(
    {
      name: "products-behind-gateway",
      routes: (router) =>
        router.service(ProductService, {
          getProduct: (req) => {
            calls.push(req.id);
            return { id: req.id, title: "Mug" };
          },
        }),
    },
    { apiKeys },
  );
  // search points at a closed port: the gateway must answer Unavailable, not hang.
  gateway = await startTestGateway(setup, { products: upstream.url, search: "http://127.0.0.1:9" });
});

afterAll(async () => {
  await gateway?.stop();
  await upstream?.shutdown();
  await env?.cleanup();
});

describe("gateway", () => {
  for (const protocol of allProtocols) {
    it(`forwards ${protocol} calls to the owning service`, async () => {
      const client = clientFor(ProductService, gateway.url, { protocol, credential: upstream.keys.seller });
      expect((await client.getProduct({ id: `via-${protocol}` })).title).toBe("Mug");
      expect(calls).toContain(`via-${protocol}`);
    });

    it(`refuses a call without credentials over ${protocol} before it reaches the service`, async () => {
      const before = calls.length;
      const err = await errorOf(clientFor(ProductService, gateway.url, { protocol }).getProduct({ id: "anon" }));
      expect(err.code).toBe(Code.Unauthenticated);
      expect(calls.length).toBe(before);
    });
  }

  it("refuses a role the RPC does not allow", async () => {
    const client = clientFor(ProductService, gateway.url, { credential: upstream.keys.customer });
    expect((await errorOf(client.getProduct({ id: "x" }))).code).toBe(Code.PermissionDenied);
  });

  it("answers Unavailable in the caller's protocol when the service is down", async () => {
    for (const protocol of allProtocols) {
      const client = clientFor(SearchService, gateway.url, { protocol });
      expect((await errorOf(client.searchProducts({ query: "mug" }))).code).toBe(Code.Unavailable);
    }
  });

  it("answers Unimplemented for paths outside the contract", async () => {
    const res = await fetch(`${gateway.url}/shop.secret.v1.Admin/DropEverything`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(501);
    expect(await res.json()).toMatchObject({ code: "unimplemented" });
  });

  it("answers CORS preflights for allowed origins only, and exposes the request id", async () => {
    const path = `${gateway.url}/shop.products.v1.ProductService/GetProduct`;
    const preflight = (origin: string) =>
      fetch(path, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    const allowed = await preflight("https://store.example");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://store.example");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
    expect((await preflight("https://evil.example")).status).toBe(403);

    const res = await fetch(path, {
      method: "POST",
      headers: {
        origin: "https://store.example",
        "content-type": "application/json",
        authorization: `Bearer ${upstream.keys.seller}`,
      },
      body: JSON.stringify({ id: "cors" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://store.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("x-request-id");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
