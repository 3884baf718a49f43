// HTTP/1.1 unary calls take the platform's own exchange with connect-es (h1-exchange.ts): answers go out whole with
// their length, and a handler still learns, through its signal, that its caller went away.
import http from "node:http";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GetProductRequestSchema, ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { envelope, rawCall, startTestService } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const path = "/shop.products.v1.ProductService/GetProduct";
/** What the "wait" handler saw of its signal: the reason it was aborted with. */
const waited: unknown[] = [];
let service: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  service = await startTestService({
    name: "h1-exchange",
    routes: (router) =>
      router.service(ProductService, {
        getProduct: async (req, ctx) => {
          if (req.id === "missing") throw new ConnectError("no such product", Code.NotFound);
          if (req.id === "wait") {
            await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
            waited.push(ctx.signal.reason);
            throw new ConnectError("stopped", Code.Canceled);
          }
          return { id: req.id, title: "Mug ".repeat(2_000) };
        },
      }),
  });
});
afterAll(() => service?.shutdown());

const seller = () => ({ authorization: `Bearer ${service.keys.seller}` });
const request = (id: string) => toBinary(GetProductRequestSchema, create(GetProductRequestSchema, { id }));

describe("answers over HTTP/1.1", () => {
  it("sends a unary answer whole, with its length, in Connect and gRPC-web", async () => {
    for (const [protocol, body] of [
      ["connect-binary", request("mug")],
      ["connect-json", Buffer.from('{"id":"mug"}')],
      ["grpc-web", envelope(request("mug"))],
    ] as const) {
      const outcome = await rawCall(service.url, path, protocol, body, seller());
      expect(outcome.code, protocol).toBe("ok");
      expect(outcome.headers["transfer-encoding"], protocol).toBeUndefined();
      expect(Number(outcome.headers["content-length"]), protocol).toBeGreaterThan(8_000);
    }
  });

  it("sends errors whole too, with their status", async () => {
    const outcome = await rawCall(service.url, path, "connect-binary", request("missing"), seller());
    expect(outcome).toMatchObject({ code: "not_found", message: "no such product", httpStatus: 404 });
    expect(outcome.headers["content-length"]).toBeDefined();
    expect(outcome.headers["transfer-encoding"]).toBeUndefined();
  });
});

describe("a caller that goes away", () => {
  it("aborts the handler's signal with canceled", async () => {
    const before = waited.length;
    const body = request("wait");
    const req = http.request(new URL(path, service.url), {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/proto", "content-length": body.length, ...seller() },
    });
    req.on("error", () => {});
    req.end(body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waited.length).toBe(before);
    req.destroy();
    for (let i = 0; i < 100 && waited.length === before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(waited.length).toBe(before + 1);
    expect(ConnectError.from(waited.at(-1)).code).toBe(Code.Canceled);
  });
});
