import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ProductSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokens, HealthService } from "../src/index.js";
import {
  allProtocols,
  clientFor,
  codeOf,
  startTestService,
  testTokenKeys,
  testTokens,
  transportFor,
} from "../src/testing/index.js";
import { fakeProductService } from "./fixtures/fake-product-service.js";

const fake = fakeProductService();
let server: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  server = await startTestService({ name: "fake-products", routes: fake.routes });
});
afterAll(() => server.shutdown());

const validProduct = () =>
  create(ProductSchema, {
    title: "Mug",
    price: { currencyCode: "EUR", amountMinor: 1250n },
    variants: [{ sku: "MUG-1" }],
  });

describe("one port, four protocols", () => {
  for (const protocol of allProtocols) {
    it(`answers GetProduct over ${protocol}`, async () => {
      const client = clientFor(ProductService, server.url, { protocol, credential: server.keys.seller });
      const product = await client.getProduct({ id: `p-${protocol}` });
      expect(product.id).toBe(`p-${protocol}`);
      expect(product.price?.amountMinor).toBe(1250n);
    });
  }

  it("answers grpc.health.v1.Health/Check over gRPC", async () => {
    const health = createClient(HealthService, transportFor("grpc", server.url)) as unknown as {
      check(req: object): Promise<{ status: number }>;
    };
    expect((await health.check({})).status).toBe(1);
  });

  it("serves liveness, readiness and Prometheus metrics over plain HTTP", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /rpc_server_duration_seconds_count\{[^}]*method="shop.products.v1.ProductService\/GetProduct",code="ok"\} [1-9]/,
    );
  });
});

describe("validation", () => {
  it("refuses an empty title with InvalidArgument naming the field, without calling the handler", async () => {
    const client = clientFor(ProductService, server.url, { credential: server.keys.seller });
    const before = fake.calls.length;
    const product = validProduct();
    product.title = "";
    const err = await client.createProduct({ product }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toMatch(/^product\.title: /);
    expect(fake.calls.length).toBe(before);
  });

  it("names nested fields, e.g. a bad currency code", async () => {
    const client = clientFor(ProductService, server.url, { protocol: "connect-json", credential: server.keys.seller });
    const product = validProduct();
    product.price = { $typeName: "shop.common.v1.Money", currencyCode: "euro", amountMinor: -1n };
    const err = ConnectError.from(await client.createProduct({ product }).catch((e: unknown) => e));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("product.price.currency_code");
    expect(err.rawMessage).toContain("product.price.amount_minor");
  });
});

describe("auth from the contract's access option", () => {
  it("refuses a seller-only RPC without a key (Unauthenticated)", async () => {
    const client = clientFor(ProductService, server.url);
    expect(await codeOf(client.createProduct({ product: validProduct() }))).toBe(Code.Unauthenticated);
  });

  it("refuses a seller-only RPC with a customer key (PermissionDenied)", async () => {
    const client = clientFor(ProductService, server.url, { credential: server.keys.customer });
    expect(await codeOf(client.createProduct({ product: validProduct() }))).toBe(Code.PermissionDenied);
  });

  it("refuses an unknown key even where the role would be enough", async () => {
    const forged = `${server.keys.seller.slice(0, -4)}AAAA`;
    const client = clientFor(ProductService, server.url, { credential: forged });
    expect(await codeOf(client.getProduct({ id: "x" }))).toBe(Code.Unauthenticated);
  });

  it("accepts a seller key, and a service bearer token where the service role is allowed", async () => {
    const withKey = clientFor(ProductService, server.url, { credential: server.keys.seller });
    expect(await codeOf(withKey.createProduct({ product: validProduct() }))).toBe("ok");
    const token = await testTokens.issue({ role: Role.SERVICE, subject: "orders" });
    const withToken = clientFor(ProductService, server.url, { protocol: "grpc", credential: token });
    expect(await codeOf(withToken.getProduct({ id: "x" }))).toBe("ok");
    expect(await codeOf(withToken.createProduct({ product: validProduct() }))).toBe(Code.PermissionDenied);
  });

  it("refuses an expired token", async () => {
    const anHourAgo = createTokens(testTokenKeys, { now: () => Date.now() - 3_600_000 });
    const token = await anHourAgo.issue({ role: Role.SERVICE, subject: "s" }, { ttlSeconds: 60 });
    const client = clientFor(ProductService, server.url, { credential: token });
    expect(await codeOf(client.getProduct({ id: "x" }))).toBe(Code.Unauthenticated);
  });
});

describe("errors", () => {
  it("hides internal failures behind a request id", async () => {
    const client = clientFor(ProductService, server.url, { credential: server.keys.seller });
    const err = ConnectError.from(await client.getProduct({ id: "explode" }).catch((e: unknown) => e));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).not.toMatch(/select|relation|products/);
    expect(err.rawMessage).toMatch(/request id [0-9a-f-]{36}/);
  });
});
