// Independent clients against the real stack: products, search and inventory behind the gateway (the contract suite's
// in-process stack, or its deployment when SHOP_CONTRACT_BASE_URL is set). Each client is built only from `buf build`'s
// descriptor set: @grpc/grpc-js with proto-loader, Python grpcio (Debian's python3-grpcio, on gRPC C-core) and
// `buf curl` over gRPC, gRPC-web and Connect. Each makes the same public, seller and refused calls through the gateway
// and directly; every status must be the one the contract gives, and every answer, decoded to canonical proto JSON,
// the one the project's own client reads.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type DescField,
  type DescMessage,
  type DescMethod,
  fromBinary,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Message,
  toJson,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, type MethodDefinition, type PackageDefinition } from "@grpc/proto-loader";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { CreateProductRequestSchema, ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { contractRegistry } from "@shop/platform";
import { clientFor, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type ContractTarget, openContractTarget } from "../contract/runtime/contract-target.js";

const run = promisify(execFile);
const python = "/usr/bin/python3";
const buf = join(process.cwd(), "node_modules", ".bin", "buf");

function hasGrpcio(): boolean {
  try {
    execFileSync(python, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const grpcio = hasGrpcio();
const hasBuf = existsSync(buf);
if (process.env.SHOP_REQUIRE_ALL === "1") {
  if (!grpcio) throw new Error("python3-grpcio is required (apt-get install python3-grpcio python3-protobuf)");
  if (!hasBuf) throw new Error(`buf is required at ${buf} (it comes with the @bufbuild/buf package)`);
}

/** One call every client makes, and what it must answer. */
interface Case {
  name: string;
  path: string;
  request: JsonObject;
  credential?: string;
  /** The gRPC status name every client must read. */
  code: string;
  /** Canonical proto JSON of the answer, when the call succeeds. */
  answer?: JsonValue;
}

/** What a client read: a status name, and the answer as canonical proto JSON when it was OK. */
interface Reading {
  code: string;
  answer?: JsonValue;
}

/** A client: makes each call at its base URL, in any order, and returns the readings in the order of `calls`. */
type IndependentClient = (calls: Array<{ url: string; call: Case }>) => Promise<Reading[]>;

function methodOf(path: string): DescMethod {
  const [, serviceName = "", methodName] = path.split("/");
  const method = contractRegistry.getService(serviceName)?.methods.find((m) => m.name === methodName);
  if (!method) throw new Error(`no method ${path} in the contract`);
  return method;
}

/** The answer as protobuf-es writes it, whatever JSON dialect (defaults, int64 as numbers, …) a client printed. */
function canonical(path: string, json: JsonValue): JsonValue {
  const schema = methodOf(path).output;
  return toJson(schema, fromJson(schema, json, { registry: contractRegistry }), { registry: contractRegistry });
}

const statusName = (code: number) => grpc.status[code] ?? `NOT_A_STATUS_${code}`;
const hostPort = (url: string) => url.replace(/^https?:\/\//, "");

/**
 * The request as proto-loader's codec takes it from a descriptor set: fields by their proto names (its camelCase option
 * applies to .proto sources only), and maps as lists of `{key, value}` entries, as the protobufjs it uses reads a
 * descriptor set's map fields (fixed upstream in protobufjs/protobuf.js#2232).
 */
function protoLoaderObject(schema: DescMessage, json: JsonObject): JsonObject {
  const convert = (field: DescField, value: JsonValue): JsonValue => {
    if (value === null) return value;
    switch (field.fieldKind) {
      case "map":
        return Object.entries(value as JsonObject).map(([key, entry]) => ({
          key,
          value: field.mapKind === "message" ? protoLoaderObject(field.message, entry as JsonObject) : entry,
        }));
      case "list":
        return field.listKind === "message"
          ? (value as JsonObject[]).map((item) => protoLoaderObject(field.message, item))
          : value;
      case "message":
        return protoLoaderObject(field.message, value as JsonObject);
      default:
        return value;
    }
  };
  return Object.fromEntries(
    Object.entries(json).map(([name, value]) => {
      const field = schema.fields.find((f) => f.jsonName === name);
      if (!field) throw new Error(`${schema.typeName} has no field ${name}`);
      return [field.name, convert(field, value)];
    }),
  );
}

/** @grpc/grpc-js, with proto-loader's codec for every method of the descriptor set. */
function grpcJsClient(definition: PackageDefinition): IndependentClient {
  return async (calls) => {
    const channels = new Map<string, grpc.Client>();
    const channel = (url: string) => {
      const client = channels.get(url) ?? new grpc.Client(hostPort(url), grpc.credentials.createInsecure());
      channels.set(url, client);
      return client;
    };
    try {
      return await Promise.all(
        calls.map(({ url, call }) => {
          const [, service = "", method = ""] = call.path.split("/");
          const codec = (definition[service] as Record<string, MethodDefinition<object, object>>)[method];
          if (!codec) throw new Error(`no method ${call.path} in the descriptor set`);
          const metadata = new grpc.Metadata();
          if (call.credential) metadata.set("authorization", `Bearer ${call.credential}`);
          return new Promise<Reading>((resolve) => {
            channel(url).makeUnaryRequest(
              codec.path,
              codec.requestSerialize,
              codec.responseDeserialize,
              protoLoaderObject(methodOf(call.path).input, call.request),
              metadata,
              (err, response) => {
                if (err || !response) return resolve({ code: statusName(err?.code ?? grpc.status.UNKNOWN) });
                // proto-loader's objects are not proto JSON: back to the wire with its own codec, then canonical.
                const schema = methodOf(call.path).output;
                const message = fromBinary(schema, codec.responseSerialize(response));
                resolve({ code: "OK", answer: toJson(schema, message, { registry: contractRegistry }) });
              },
            );
          });
        }),
      );
    } finally {
      for (const client of channels.values()) client.close();
    }
  };
}

/** Python grpcio: one interpreter for every call (grpcio-call.py). */
function grpcioClient(descriptorSet: string): IndependentClient {
  return async (calls) => {
    const batch = calls.map(({ url, call }) => ({
      target: hostPort(url),
      path: call.path,
      request: call.request,
      metadata: call.credential ? [["authorization", `Bearer ${call.credential}`]] : [],
    }));
    const child = run(python, [join(import.meta.dirname, "grpcio-call.py"), descriptorSet]);
    child.child.stdin?.end(JSON.stringify(batch));
    const { stdout } = await child;
    const results = JSON.parse(stdout) as Array<{ code: string; response: JsonValue | null }>;
    return results.map(({ code, response }, at) =>
      code === "OK" && response !== null ? { code, answer: canonical(batch[at]?.path ?? "", response) } : { code },
    );
  };
}

/**
 * `buf curl`, one process per call. Its exit code is the gRPC code shifted left by three bits; below 8 it failed
 * before or outside the RPC (usage, connection), which is a broken test rather than a reading.
 */
function bufCurlClient(descriptorSet: string, protocol: "grpc" | "grpcweb" | "connect"): IndependentClient {
  const one = async (url: string, call: Case): Promise<Reading> => {
    const args = ["curl", "--schema", descriptorSet, "--protocol", protocol, "--data", JSON.stringify(call.request)];
    if (call.credential) args.push("--header", `authorization: Bearer ${call.credential}`);
    try {
      const { stdout } = await run(buf, [...args, `${url}${call.path}`]);
      return { code: "OK", answer: canonical(call.path, JSON.parse(stdout)) };
    } catch (err) {
      const { code, stderr } = err as { code?: unknown; stderr?: string };
      if (typeof code !== "number" || code < 8) throw new Error(`buf curl failed (${String(code)}): ${stderr}`);
      return { code: statusName(code >> 3) };
    }
  };
  return (calls) => Promise.all(calls.map(({ url, call }) => one(url, call)));
}

/** The contract as every client reads it: `buf build`'s descriptor set, and proto-loader's definition of it. */
interface DescriptorSet {
  path: string;
  definition: PackageDefinition;
}

const clients: Array<{ name: string; missing?: boolean; create(set: DescriptorSet): IndependentClient }> = [
  { name: "@grpc/grpc-js", create: (set) => grpcJsClient(set.definition) },
  { name: "Python grpcio", missing: !grpcio, create: (set) => grpcioClient(set.path) },
  { name: "buf curl over gRPC", create: (set) => bufCurlClient(set.path, "grpc") },
  { name: "buf curl over gRPC-web", create: (set) => bufCurlClient(set.path, "grpcweb") },
  { name: "buf curl over Connect", create: (set) => bufCurlClient(set.path, "connect") },
];

let dir: string | undefined;
let descriptorSet: DescriptorSet;
let target: ContractTarget | undefined;
let cases: Case[] = [];

/** Base URLs of `domain`: the gateway and the service itself. */
const endpointsOf = (domain: string) => target?.endpoints(domain) ?? [];

beforeAll(async () => {
  if (!hasBuf) return;
  dir = mkdtempSync(join(tmpdir(), "shop-interop-"));
  const path = join(dir, "shop.binpb");
  execFileSync(buf, ["build", "-o", path]);
  descriptorSet = { path, definition: loadFileDescriptorSetFromBuffer(readFileSync(path), { longs: String }) };

  target = await openContractTarget();
  const seller = target.credential("seller");
  const service = target.credential("service");
  const direct = (domain: string) => {
    const url = endpointsOf(domain).find((e) => e.via === "direct")?.url;
    if (!url) throw new Error(`the interop suite calls ${domain} directly too: give its URL (SHOP_CONTRACT_DIRECT)`);
    return url;
  };
  const json = { registry: contractRegistry };

  // A product created as a seller would, then read back as each role sees it once search and inventory caught up.
  const createRequest = {
    requestId: `interop-${Date.now()}`,
    product: {
      title: "Interop Teapot",
      description: "Cast iron, 1 l.",
      status: "PRODUCT_STATUS_ACTIVE",
      price: { currencyCode: "EUR", amountMinor: "3450" },
      variants: [{ sku: "INTEROP-TEAPOT-1", title: "Black" }],
      tags: ["interop", "kitchen"],
      attributes: { material: "cast iron", volume: "1 l" },
    },
    initialStock: [{ sku: "INTEROP-TEAPOT-1", quantity: "7" }],
  };
  const products = clientFor(ProductService, direct("products"), { credential: seller });
  const created = await products.createProduct(fromJson(CreateProductRequestSchema, createRequest));
  const search = clientFor(SearchService, direct("search"));
  const inventory = clientFor(InventoryService, direct("inventory"));
  const skus = ["INTEROP-TEAPOT-1"];
  await waitFor(
    async () =>
      (await search.getProduct({ id: created.id }).catch(() => undefined))?.available === 7n &&
      (await inventory.getStock({ skus })).levels[0]?.available === 7n,
    30_000,
    "the product in search and its stock in inventory",
  );
  const answer = (path: string, message: Message) => toJson(methodOf(path).output, message, json);

  const publicProduct = "/shop.search.v1.SearchService/GetProduct";
  const publicStock = "/shop.inventory.v1.InventoryService/GetStock";
  const sellerProduct = "/shop.products.v1.ProductService/GetProduct";
  const sellerCreate = "/shop.products.v1.ProductService/CreateProduct";
  const reserve = "/shop.inventory.v1.InventoryService/Reserve";
  cases = [
    {
      name: "public: a product in the catalog",
      path: publicProduct,
      request: { id: created.id },
      code: "OK",
      answer: answer(publicProduct, await search.getProduct({ id: created.id })),
    },
    {
      name: "public: live stock",
      path: publicStock,
      request: { skus },
      code: "OK",
      answer: answer(publicStock, await inventory.getStock({ skus })),
    },
    {
      name: "seller: its product",
      path: sellerProduct,
      request: { id: created.id },
      credential: seller,
      code: "OK",
      answer: answer(sellerProduct, await products.getProduct({ id: created.id })),
    },
    {
      name: "seller: a create repeated with its request id",
      path: sellerCreate,
      request: createRequest,
      credential: seller,
      code: "OK",
      answer: answer(sellerCreate, created),
    },
    {
      name: "refused: a seller RPC without credentials",
      path: "/shop.products.v1.ProductService/ListProducts",
      request: {},
      code: "UNAUTHENTICATED",
    },
    {
      name: "refused: a seller key on a service RPC",
      path: reserve,
      request: { reservationId: "interop-1", lines: [{ sku: skus[0] ?? "", quantity: "1" }] },
      credential: seller,
      code: "PERMISSION_DENIED",
    },
    {
      name: "refused: an invalid request",
      path: reserve,
      request: { reservationId: "not valid!", lines: [{ sku: skus[0] ?? "", quantity: "1" }] },
      credential: service,
      code: "INVALID_ARGUMENT",
    },
    {
      name: "error: a product that does not exist",
      path: publicProduct,
      request: { id: "prod_missing" },
      code: "NOT_FOUND",
    },
  ];
});

afterAll(async () => {
  await target?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every case at every endpoint of its domain (gateway and direct), so one reading per pair. */
function plan(): Array<{ url: string; via: string; call: Case }> {
  return cases.flatMap((call) => {
    const domain = call.path.split(".")[1] ?? "";
    return endpointsOf(domain).map(({ url, via }) => ({ url, via, call }));
  });
}

describe.skipIf(!hasBuf)("independent clients, through the gateway and directly", () => {
  // One test per client, run concurrently: the stack is shared and every call is read-only or idempotent.
  for (const client of clients) {
    it.skipIf(client.missing).concurrent(`${client.name} reads the same answers and codes`, async ({ expect }) => {
      const calls = plan();
      const readings = await client.create(descriptorSet)(calls);
      const seen = calls.map(({ via, call }, at) => ({ case: call.name, via, ...readings[at] }));
      const expected = calls.map(({ via, call }) => ({ case: call.name, via, code: call.code, answer: call.answer }));
      expect(seen).toEqual(expected);
    });
  }
});
