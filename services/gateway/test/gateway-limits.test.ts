// The gateway as the first line against what callers send: body caps before anything is forwarded, rate budgets
// shared by every replica through Redis, and deadlines that end as a status.
import { Code } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import {
  createLogger,
  type DualProtocolServer,
  generateApiKey,
  type RunningService,
  retryDelayMs,
  startDualProtocolServer,
} from "@shop/platform";
import {
  allProtocols,
  clientFor,
  createTestEnv,
  envelope,
  errorOf,
  rawCall,
  startTestService,
  type TestEnv,
} from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayPlatform, startTestGateway } from "./support/gateway-harness.js";

const maxRequestBytes = 64 * 1024;
const anonymousBudget = 6;
let searched = 0;
let env: TestEnv;
let seller: ReturnType<typeof generateApiKey>;
let sellerKey: string;
let upstream: RunningService;
let silent: DualProtocolServer;
let gateways: Array<Awaited<ReturnType<typeof startTestGateway>>> = [];

beforeAll(async () => {
  env = await createTestEnv();
  const variables = {
    SHOP_MAX_REQUEST_BYTES: String(maxRequestBytes),
    SHOP_MAX_TIMEOUT_MS: "3000",
    SHOP_RATE_LIMIT_ANONYMOUS: String(anonymousBudget),
    SHOP_RATE_LIMIT_PER_CREDENTIAL: "1000",
    // A long window, so the budget cannot refill while the test runs.
    SHOP_RATE_LIMIT_WINDOW_S: "600",
  };
  const first = await gatewayPlatform(env, variables);
  // The second replica cuts calls sooner, so the test of the maximum does not wait long.
  const second = await gatewayPlatform(env, { ...variables, SHOP_MAX_TIMEOUT_MS: "1000" });
  upstream = await startTestService(
    {
      name: "search-behind-gateway",
      routes: (router) =>
        router.service(SearchService, {
          searchProducts: () => {
            searched++;
            return { totalSize: 1n };
          },
        }),
    },
    { apiKeys: first.platform.apiKeys },
  );
  // Two replicas learn the same keys (from the identity stream in a deployment); here, the test seller's.
  seller = generateApiKey(Role.SELLER);
  for (const { platform } of [first, second]) platform.apiKeys.put(seller.record);
  sellerKey = seller.secret;
  // An upstream that accepts calls and never answers: only the gateway's own deadline can end them.
  silent = await startDualProtocolServer(() => undefined, {
    port: 0,
    host: "127.0.0.1",
    logger: createLogger("silent", "silent"),
    shutdownTimeoutMs: 10,
  });
  gateways = [
    await startTestGateway(first, { search: upstream.url, products: silent.url }),
    await startTestGateway(second, { search: upstream.url, products: silent.url }),
  ];
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.stop();
  await upstream?.shutdown();
  await silent?.shutdown();
  await env?.cleanup();
});

const searchPath = "/shop.search.v1.SearchService/SearchProducts";

describe("request size at the gateway", () => {
  it("refuses a body over the cap from its content-length, on every protocol, before forwarding anything", async () => {
    const before = searched;
    const big = Buffer.alloc(maxRequestBytes + 1, 0x20);
    for (const protocol of allProtocols) {
      const body = protocol === "grpc" || protocol === "grpc-web" ? envelope(big) : big;
      const outcome = await rawCall(gateways[0]?.url ?? "", searchPath, protocol, body, {
        authorization: `Bearer ${sellerKey}`,
      });
      expect(outcome.code, protocol).toBe("resource_exhausted");
    }
    expect(searched).toBe(before);
  });

  it("refuses a chunked body once it passes the cap, before forwarding anything", async () => {
    const before = searched;
    const outcome = await rawCall(
      gateways[0]?.url ?? "",
      searchPath,
      "connect-json",
      Buffer.from(`{"query": "${"x".repeat(maxRequestBytes)}"}`),
      { "transfer-encoding": "chunked", authorization: `Bearer ${sellerKey}` },
    );
    expect(outcome.code).toBe("resource_exhausted");
    expect(searched).toBe(before);
  });
  it("answers callers that send a whole oversized body before reading, and keeps serving", async () => {
    // Node's client sends the whole body before reading and asks to close the connection: had the gateway closed it
    // with the body unread, the reset would lose the answer. Megabytes, so the body outgrows the sockets' buffers.
    const cap = 4 * 1024 * 1024;
    const setup = await gatewayPlatform(env, {
      SHOP_MAX_REQUEST_BYTES: String(cap),
      SHOP_RATE_LIMIT_PER_CREDENTIAL: "1000",
    });
    setup.platform.apiKeys.put(seller.record);
    const gateway = await startTestGateway(setup, { search: upstream.url });
    const big = Buffer.alloc(3 * cap, 0x20);
    const codes: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        for (const protocol of ["connect-binary", "grpc-web"] as const) {
          const body = protocol === "grpc-web" ? envelope(big) : big;
          const outcome = await rawCall(gateway.url, searchPath, protocol, body, {
            authorization: `Bearer ${sellerKey}`,
          }).catch((err: Error) => ({ code: err.message }));
          codes.push(outcome.code);
        }
      }
      const after = await rawCall(gateway.url, searchPath, "connect-binary", new Uint8Array(), {
        authorization: `Bearer ${sellerKey}`,
      });
      expect(after.code).toBe("ok");
    } finally {
      await gateway.stop();
    }
    expect(new Set(codes)).toEqual(new Set(["resource_exhausted"]));
  });
});

describe("deadlines at the gateway", () => {
  it("answers deadline_exceeded in the caller's protocol when the service does not answer in time", async () => {
    const path = "/shop.products.v1.ProductService/GetProduct";
    for (const protocol of allProtocols) {
      const headers: Record<string, string> =
        protocol === "grpc" || protocol === "grpc-web" ? { "grpc-timeout": "150m" } : { "connect-timeout-ms": "150" };
      const body =
        protocol === "connect-json"
          ? Buffer.from('{"id":"p1"}')
          : protocol === "connect-binary"
            ? Buffer.alloc(0)
            : envelope(Buffer.alloc(0));
      const outcome = await rawCall(gateways[0]?.url ?? "", path, protocol, body, {
        ...headers,
        authorization: `Bearer ${sellerKey}`,
      });
      expect(outcome.code, protocol).toBe("deadline_exceeded");
    }
  });

  it("cuts a call without a deadline at the gateway's maximum", async () => {
    const outcome = await rawCall(
      gateways[1]?.url ?? "",
      "/shop.products.v1.ProductService/GetProduct",
      "connect-json",
      Buffer.from('{"id":"p1"}'),
      { authorization: `Bearer ${sellerKey}` },
    );
    expect(outcome.code).toBe("deadline_exceeded");
  });
});

describe("rate limits", () => {
  it("counts anonymous callers of both replicas against one budget per address, and says when to retry", async () => {
    const [first, second] = gateways.map((gateway) => clientFor(SearchService, gateway.url));
    for (let call = 0; call < anonymousBudget; call++) {
      await (call % 2 === 0 ? first : second)?.searchProducts({ query: "mug" });
    }
    for (const client of [first, second]) {
      const err = await errorOf(client?.searchProducts({ query: "mug" }) ?? Promise.resolve());
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(retryDelayMs(err)).toBeGreaterThan(0);
    }
    const refused = await rawCall(gateways[1]?.url ?? "", searchPath, "connect-json", Buffer.from("{}"));
    expect(refused.code).toBe("resource_exhausted");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("gives the refusal with its RetryInfo over gRPC and gRPC-web too", async () => {
    for (const protocol of ["grpc", "grpc-web"] as const) {
      const err = await errorOf(clientFor(SearchService, gateways[0]?.url ?? "", { protocol }).searchProducts({}));
      expect(err.code, protocol).toBe(Code.ResourceExhausted);
      expect(retryDelayMs(err), protocol).toBeGreaterThan(0);
    }
  });

  it("keeps a separate budget for each credential", async () => {
    const client = clientFor(SearchService, gateways[0]?.url ?? "", { credential: sellerKey });
    expect((await client.searchProducts({ query: "mug" })).totalSize).toBe(1n);
  });
});
