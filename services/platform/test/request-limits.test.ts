// What a caller sends cannot hurt a service: bodies are capped, malformed ones are the caller's fault on every protocol,
// and a call ends by its deadline with a status, whatever the handler is doing.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GetProductRequestSchema, ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { allProtocols, clientFor, envelope, errorOf, rawCall, startTestService } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const maxRequestBytes = 64 * 1024;
const maxTimeoutMs = 400;
const path = "/shop.products.v1.ProductService/GetProduct";
let handled = 0;
let service: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  service = await startTestService(
    {
      name: "limits",
      routes: (router) =>
        router.service(ProductService, {
          getProduct: async (req) => {
            handled++;
            // A handler that ignores its deadline: the platform must end the call anyway.
            if (req.id === "slow") await sleep(3_000);
            return { id: req.id, title: "Mug" };
          },
        }),
    },
    { limits: { maxRequestBytes, maxTimeoutMs } },
  );
});
afterAll(() => service?.shutdown());

const seller = () => ({ authorization: `Bearer ${service.keys.seller}` });
/** 512 random bytes whose first byte starts an end-group tag: never a valid message. */
const garbage = () => Buffer.concat([Buffer.from([0x0c]), randomBytes(511)]);
const framed = (bytes: Uint8Array, protocol: string) =>
  protocol === "grpc" || protocol === "grpc-web" ? envelope(bytes) : bytes;

describe("malformed request bodies", () => {
  for (const protocol of ["connect-binary", "grpc", "grpc-web"] as const) {
    it(`answers invalid_argument, not internal, to random bytes over ${protocol}`, async () => {
      const before = handled;
      const outcome = await rawCall(service.url, path, protocol, framed(garbage(), protocol), seller());
      expect(outcome.code).toBe("invalid_argument");
      expect(outcome.message).toContain("shop.products.v1.GetProductRequest");
      expect(handled).toBe(before);
    });
  }

  it("answers invalid_argument to a truncated message and a truncated frame", async () => {
    const valid = toBinary(GetProductRequestSchema, create(GetProductRequestSchema, { id: "abcdefghij" }));
    expect((await rawCall(service.url, path, "connect-binary", valid.subarray(0, 5), seller())).code).toBe(
      "invalid_argument",
    );
    const frame = envelope(valid);
    expect((await rawCall(service.url, path, "grpc", frame.subarray(0, frame.length - 3), seller())).code).toBe(
      "invalid_argument",
    );
  });

  it("answers invalid_argument to JSON of the wrong shape", async () => {
    for (const body of ['{"id": 42}', '{"id": ', "[]", '{"nope": true}']) {
      const outcome = await rawCall(service.url, path, "connect-json", Buffer.from(body), seller());
      expect(outcome.code, body).toBe("invalid_argument");
    }
  });

  it("still serves well-formed calls afterwards", async () => {
    for (const protocol of allProtocols) {
      const client = clientFor(ProductService, service.url, { protocol, credential: service.keys.seller });
      expect((await client.getProduct({ id: "after-garbage" })).title).toBe("Mug");
    }
  });
});

describe("request size", () => {
  it("refuses a body whose content-length is over the cap without reading it", async () => {
    const before = handled;
    const big = Buffer.alloc(maxRequestBytes + 1, 0x20);
    for (const protocol of allProtocols) {
      const outcome = await rawCall(service.url, path, protocol, framed(big, protocol), seller());
      expect(outcome.code, protocol).toBe("resource_exhausted");
    }
    expect(handled).toBe(before);
  });

  it("refuses a chunked body once it passes the cap", async () => {
    const outcome = await rawCall(
      service.url,
      path,
      "connect-json",
      Buffer.from(`{"id": "${"x".repeat(maxRequestBytes)}"}`),
      { ...seller(), "transfer-encoding": "chunked" },
    );
    expect(outcome.code).toBe("resource_exhausted");
  });

  it("refuses a compressed body that inflates past the cap", async () => {
    const { gzipSync } = await import("node:zlib");
    const inflated = toBinary(
      GetProductRequestSchema,
      create(GetProductRequestSchema, { id: "a".repeat(maxRequestBytes * 2) }),
    );
    const outcome = await rawCall(service.url, path, "connect-binary", gzipSync(inflated), {
      ...seller(),
      "content-encoding": "gzip",
    });
    expect(outcome.code).toBe("resource_exhausted");
  });
});

describe("deadlines", () => {
  for (const protocol of allProtocols) {
    it(`ends a call past the caller's deadline as deadline_exceeded over ${protocol}`, async () => {
      const client = clientFor(ProductService, service.url, { protocol, credential: service.keys.seller });
      const err = await errorOf(client.getProduct({ id: "slow" }, { timeoutMs: 150 }));
      expect(err.code).toBe(Code.DeadlineExceeded);
    });
  }

  it("cuts a call without a deadline at the server's maximum, answering deadline_exceeded", async () => {
    for (const protocol of ["connect-json", "grpc"] as const) {
      const body =
        protocol === "grpc"
          ? envelope(toBinary(GetProductRequestSchema, create(GetProductRequestSchema, { id: "slow" })))
          : Buffer.from('{"id":"slow"}');
      const outcome = await rawCall(service.url, path, protocol, body, seller());
      expect(outcome.code, protocol).toBe("deadline_exceeded");
    }
  });
});
