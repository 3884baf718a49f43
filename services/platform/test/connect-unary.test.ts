// Connect unary POSTs over HTTP/1.1 take the platform's own path (connect-unary.ts); a compressed request still takes
// connect-es's. The same calls, sent both ways to one service, must be answered alike: status, headers, trailers and
// body, in binary and JSON, for answers, refusals, failures, deadlines and compressed answers.
import http from "node:http";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { GetProductRequestSchema, ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { startTestService } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const path = "/shop.products.v1.ProductService/GetProduct";
/** Per call, by its request id: whether the handler's context was connect-es's plain object, and what it held. */
const seen = new Map<string, { plain: boolean; protocol: string; method: string; timeout: boolean; caller: boolean }>();
let service: Awaited<ReturnType<typeof startTestService>>;

function note(ctx: HandlerContext): void {
  seen.set(ctx.requestHeader.get("x-request-id") ?? "", {
    plain: Object.getPrototypeOf(ctx) === Object.prototype,
    protocol: ctx.protocolName,
    method: ctx.requestMethod,
    timeout: ctx.timeoutMs() !== undefined,
    caller: ctx.requestHeader.get("authorization") !== null,
  });
}

beforeAll(async () => {
  service = await startTestService({
    name: "connect-unary",
    routes: (router) =>
      router.service(ProductService, {
        getProduct: async (req, ctx) => {
          note(ctx);
          ctx.responseHeader.set("x-served", "yes");
          ctx.responseTrailer.set("x-trail", "after");
          if (req.id === "missing") {
            throw new ConnectError("no such product", Code.NotFound, { "x-why": "gone" });
          }
          if (req.id === "boom") throw new Error("a secret the caller must not see");
          if (req.id === "slow") await new Promise((resolve) => setTimeout(resolve, 1_000));
          return { id: req.id, title: req.id === "big" ? "Mug ".repeat(2_000) : "Mug", attributes: { colour: "red" } };
        },
      }),
  });
});
afterAll(() => service?.shutdown());

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Posts `body` as it is and reads the answer whole, decompressed when the server compressed it. */
function post(body: Uint8Array, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, service.url), {
      method: "POST",
      agent: false,
      headers: { "content-length": String(body.byteLength), ...headers },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const raw = Buffer.concat(chunks);
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === "string") flat[name] = value;
        resolve({
          status: res.statusCode ?? 0,
          headers: flat,
          body: flat["content-encoding"] === "gzip" ? gunzipSync(raw) : raw,
        });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const formats = {
  binary: {
    type: "application/proto",
    encode: (id: string) => toBinary(GetProductRequestSchema, create(GetProductRequestSchema, { id })),
  },
  json: { type: "application/json", encode: (id: string) => Buffer.from(JSON.stringify({ id, unknownField: 1 })) },
} as const;

let sequence = 0;

/** The same call on the platform's path (a plain body) and on connect-es's (the body gzipped), with what each saw. */
async function bothWays(body: Uint8Array, type: string, extra: Record<string, string> = {}) {
  const call = async (compressed: boolean) => {
    const requestId = `call-${++sequence}`;
    const headers = {
      "content-type": type,
      authorization: `Bearer ${service.keys.seller}`,
      "x-request-id": requestId,
      ...(compressed ? { "content-encoding": "gzip" } : {}),
      ...extra,
    };
    const answer = await post(compressed ? gzipSync(body) : body, headers);
    return { answer, context: seen.get(requestId), requestId };
  };
  return { platform: await call(false), connectEs: await call(true) };
}

/** The headers a comparison can hold both paths to: not the date, the connection or the request id. */
function comparable(answer: Answer, requestId: string): Record<string, string> {
  const { date: _date, connection: _connection, "keep-alive": _keepAlive, ...rest } = answer.headers;
  expect(rest["x-request-id"]).toBe(requestId);
  delete rest["x-request-id"];
  return rest;
}

describe.each(Object.entries(formats))("the platform's Connect unary path, %s", (_name, format) => {
  it.each([
    ["an answer", "mug"],
    ["a refusal with metadata", "missing"],
    ["a handler's failure, without its message", "boom"],
    ["a request the contract refuses", ""],
  ])("answers %s as connect-es does", async (_case, id) => {
    const { platform, connectEs } = await bothWays(format.encode(id), format.type);
    expect(platform.answer.status).toBe(connectEs.answer.status);
    expect(comparable(platform.answer, platform.requestId)).toEqual(comparable(connectEs.answer, connectEs.requestId));
    const body = (answer: Answer) => answer.body.toString("latin1").replaceAll(/call-\d+/g, "call-id");
    expect(body(platform.answer)).toEqual(body(connectEs.answer));
    expect(platform.answer.body.toString()).not.toContain("secret");
    // The two really are different paths, and hand the handler the same context.
    if (id !== "") {
      expect(platform.context?.plain).toBe(false);
      expect(connectEs.context?.plain).toBe(true);
      expect({ ...platform.context, plain: true }).toEqual(connectEs.context);
    }
  });

  it("carries the handler's headers and trailers, and a refusal's metadata", async () => {
    const { platform } = await bothWays(format.encode("missing"), format.type);
    expect(platform.answer.status).toBe(404);
    expect(platform.answer.headers).toMatchObject({ "x-served": "yes", "trailer-x-trail": "after", "x-why": "gone" });
    expect(JSON.parse(platform.answer.body.toString())).toMatchObject({ code: "not_found" });
  });

  it("compresses a large answer for a caller that accepts it, as connect-es does, and leaves a small one", async () => {
    const big = await bothWays(format.encode("big"), format.type, { "accept-encoding": "gzip" });
    expect(big.platform.answer.headers["content-encoding"]).toBe("gzip");
    expect(big.platform.answer.body).toEqual(big.connectEs.answer.body);
    const small = await bothWays(format.encode("mug"), format.type, { "accept-encoding": "gzip" });
    expect(small.platform.answer.headers["content-encoding"]).toBeUndefined();
    expect(small.platform.answer.body).toEqual(small.connectEs.answer.body);
  });

  it("ends a call at the caller's deadline with deadline_exceeded, and tells the handler its deadline", async () => {
    const { platform, connectEs } = await bothWays(format.encode("slow"), format.type, { "connect-timeout-ms": "100" });
    for (const { answer } of [platform, connectEs]) {
      expect(answer.status).toBe(504);
      expect(JSON.parse(answer.body.toString())).toMatchObject({ code: "deadline_exceeded" });
    }
    expect(platform.context?.timeout).toBe(true);
  });
});

describe("what the platform's path refuses", () => {
  it("answers undecodable binary as invalid_argument, naming the message, as on connect-es's path", async () => {
    const garbage = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const { platform, connectEs } = await bothWays(garbage, "application/proto");
    for (const { answer } of [platform, connectEs]) {
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body.toString())).toMatchObject({ code: "invalid_argument" });
      expect(answer.body.toString()).toContain("shop.products.v1.GetProductRequest");
    }
  });

  it("answers JSON that does not parse as invalid_argument", async () => {
    const { platform } = await bothWays(Buffer.from("{not json"), "application/json");
    expect(platform.answer.status).toBe(400);
    expect(JSON.parse(platform.answer.body.toString())).toMatchObject({ code: "invalid_argument" });
  });

  it("refuses a caller without a key before the handler runs", async () => {
    const before = seen.size;
    const answer = await post(formats.binary.encode("mug"), { "content-type": "application/proto" });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ code: "unauthenticated" });
    expect(seen.size).toBe(before);
  });
});
