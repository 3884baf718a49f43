import { create } from "@bufbuild/protobuf";
import { type Violation, ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { OrderSchema } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createShopClient, type ShopClientOptions, type ShopProtocol } from "../src/index.js";
import { slowly, startTestServer, type TestServer } from "./test-server.js";

/** Failures the next calls of a method meet before it answers, set per test. */
const failures = new Map<string, ConnectError[]>();
const failFirst = (method: string, ...errors: ConnectError[]) => failures.set(method, errors);
const unavailable = () => new ConnectError("restarting", Code.Unavailable);
const maybeFail = (method: string) => {
  const error = failures.get(method)?.shift();
  if (error) throw error;
};
/** How long SearchProducts takes, set per test. */
let searchDelayMs = 0;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer((router) => {
    router.service(SearchService, {
      async searchProducts(req, ctx) {
        maybeFail("SearchProducts");
        await slowly(searchDelayMs, ctx.signal);
        return { hits: [{ product: { id: "p1", title: `Result for ${req.query}` } }], totalSize: 1n };
      },
      async *reindex(_req, ctx) {
        await slowly(searchDelayMs, ctx.signal);
        yield { eventsApplied: 1n, eventsTotal: 1n, done: true };
      },
    });
    router.service(OrderService, {
      getOrder(req) {
        maybeFail("GetOrder");
        if (req.id === "invalid") {
          const violation: Partial<Violation> = {
            ruleId: "string.min_len",
            message: "value length must be at least 1",
          };
          throw new ConnectError("id: value length must be at least 1", Code.InvalidArgument, undefined, [
            { desc: ViolationsSchema, value: { violations: [violation] } },
          ]);
        }
        return create(OrderSchema, { id: req.id });
      },
      createOrder(req) {
        maybeFail("CreateOrder");
        return create(OrderSchema, { id: `ord_${req.requestId}` });
      },
      cancelOrder(req) {
        maybeFail("CancelOrder");
        return create(OrderSchema, { id: req.id, cancelReason: req.reason });
      },
    });
    router.service(ProductService, {
      batchCreateProducts(req) {
        return { results: req.requests.map((item) => ({ product: { id: item.requestId } })) };
      },
    });
  });
});
afterAll(() => server?.stop());
afterEach(() => {
  server.calls.length = 0;
  failures.clear();
  searchDelayMs = 0;
});

/** Retries fast enough for a test, with the same shape as the defaults. */
const client = (options: Partial<ShopClientOptions> = {}) =>
  createShopClient({ baseUrl: server.url, retry: { initialDelayMs: 10, maxDelayMs: 80, maxAttempts: 4 }, ...options });

async function failureOf(call: Promise<unknown>): Promise<ConnectError> {
  const outcome = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(ConnectError);
  return outcome as ConnectError;
}

describe("createShopClient", () => {
  it.each([
    ["connect", "application/proto"],
    ["grpc-web", "application/grpc-web+proto"],
  ] as Array<[ShopProtocol, string]>)("searches over %s", async (protocol, contentType) => {
    const found = await client({ protocol }).search.searchProducts({ query: "mug" });
    expect(found.hits[0]?.product?.title).toBe("Result for mug");
    expect(server.callsOf("SearchProducts").map((call) => call.contentType)).toEqual([contentType]);
  });

  it("sends an API key or token as a bearer credential, and none for anonymous calls", async () => {
    await client({ apiKey: "sk_a_secret" }).search.searchProducts({});
    await client({ token: "eyJ.token" }).search.searchProducts({});
    await client({ credential: "sk_b_secret" }).search.searchProducts({});
    await client().search.searchProducts({});
    expect(server.calls.map((call) => call.authorization)).toEqual([
      "Bearer sk_a_secret",
      "Bearer eyJ.token",
      "Bearer sk_b_secret",
      undefined,
    ]);
    expect(() => client({ apiKey: "sk_a", token: "eyJ" })).toThrow(/one of apiKey, token or credential/);
  });

  it("keeps the contract's typed error details, over Connect and gRPC-web", async () => {
    for (const protocol of ["connect", "grpc-web"] as const) {
      const error = await failureOf(client({ protocol }).orders.getOrder({ id: "invalid" }));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.findDetails(ViolationsSchema)[0]?.violations[0]?.ruleId).toBe("string.min_len");
    }
  });
});

describe("retries", () => {
  it("repeats a read through unavailable until the service answers", async () => {
    failFirst("GetOrder", unavailable(), unavailable());
    expect((await client().orders.getOrder({ id: "ord_1" })).id).toBe("ord_1");
    expect(server.callsOf("GetOrder")).toHaveLength(3);
  });

  it("waits for a stopped server to come back, then answers", async () => {
    await server.stop();
    const restarted = new Promise((resolve) => setTimeout(resolve, 150)).then(() => server.start());
    const shop = client({ retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 20 } });
    const order = await shop.orders.getOrder({ id: "ord_2" }).finally(() => restarted);
    expect(order.id).toBe("ord_2");
    expect(server.callsOf("GetOrder")).toHaveLength(1);
  });

  it("gives up after its attempts with unavailable when nothing listens", async () => {
    await server.stop();
    try {
      const error = await failureOf(
        client({ retry: { initialDelayMs: 5, maxAttempts: 3 } }).orders.getOrder({ id: "x" }),
      );
      expect(error.code).toBe(Code.Unavailable);
      expect(error.message).toMatch(/could not be reached/);
    } finally {
      await server.start();
    }
  });

  it("never repeats a mutation that carries no idempotency key", async () => {
    failFirst("CancelOrder", unavailable());
    const error = await failureOf(client().orders.cancelOrder({ id: "ord_3", reason: "changed my mind" }));
    expect(error.code).toBe(Code.Unavailable);
    expect(server.callsOf("CancelOrder")).toHaveLength(1);
  });

  it("does not repeat failures other than unavailable", async () => {
    failFirst("GetOrder", new ConnectError("boom", Code.Internal));
    expect((await failureOf(client().orders.getOrder({ id: "ord_4" }))).code).toBe(Code.Internal);
    expect(server.callsOf("GetOrder")).toHaveLength(1);
  });

  it("can be turned off", async () => {
    failFirst("GetOrder", unavailable());
    expect((await failureOf(client({ retry: false }).orders.getOrder({ id: "ord_5" }))).code).toBe(Code.Unavailable);
    expect(server.callsOf("GetOrder")).toHaveLength(1);
    await server.stop();
    try {
      expect((await failureOf(client({ retry: false }).orders.getOrder({ id: "ord_5" }))).code).toBe(Code.Unavailable);
    } finally {
      await server.start();
    }
  });
});

describe("idempotency keys", () => {
  it("gives a mutation without one a key, and repeats the same key on retry", async () => {
    failFirst("CreateOrder", unavailable());
    const request = { email: "ada@example.com", lines: [{ sku: "MUG-1", quantity: 1n }] };
    const first = await client().orders.createOrder(request);
    expect(first.id).toMatch(/^ord_[0-9a-f]{32}$/);
    expect(server.callsOf("CreateOrder")).toHaveLength(2);
    expect(request).not.toHaveProperty("requestId");
    const second = await client().orders.createOrder(request);
    expect(second.id).not.toBe(first.id);
  });

  it("keeps the caller's own key", async () => {
    const order = await client().orders.createOrder({ requestId: "checkout-42", lines: [] });
    expect(order.id).toBe("ord_checkout-42");
  });

  it("gives every item of a batch its own key", async () => {
    const { results } = await client().products.batchCreateProducts({
      requests: [{ product: { title: "Mug" } }, { product: { title: "Bowl" }, requestId: "row-2" }],
    });
    const [first, second] = results.map((result) => result.product?.id);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(second).toBe("row-2");
  });
});

describe("timeouts", () => {
  it("ends a call that runs past the client's deadline with deadline_exceeded", async () => {
    searchDelayMs = 2_000;
    const started = performance.now();
    const error = await failureOf(client({ timeoutMs: 150 }).search.searchProducts({ query: "slow" }));
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("lets one call ask for more time than the default", async () => {
    searchDelayMs = 300;
    const shop = client({ timeoutMs: 100 });
    expect((await failureOf(shop.search.searchProducts({}))).code).toBe(Code.DeadlineExceeded);
    expect((await shop.search.searchProducts({}, { timeoutMs: 5_000 })).hits).toHaveLength(1);
  });

  it("lets a server stream report progress past the default deadline", async () => {
    searchDelayMs = 300;
    const steps = [];
    for await (const step of client({ timeoutMs: 100 }).search.reindex({})) steps.push(step);
    expect(steps.map((step) => step.done)).toEqual([true]);
  });

  it("bounds retries by the same deadline", async () => {
    await server.stop();
    try {
      const started = performance.now();
      const shop = client({ timeoutMs: 200, retry: { initialDelayMs: 50, maxDelayMs: 50, maxAttempts: 1_000 } });
      expect((await failureOf(shop.orders.getOrder({ id: "ord_6" }))).code).toBe(Code.DeadlineExceeded);
      expect(performance.now() - started).toBeLessThan(1_500);
    } finally {
      await server.start();
    }
  });
});
