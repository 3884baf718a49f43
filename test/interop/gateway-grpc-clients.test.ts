// Independent gRPC implementations through the gateway: @grpc/grpc-js (pure JavaScript) and Python grpcio (Debian's
// python3-grpcio, on gRPC C-core), with messages built at run time from `buf build`'s descriptor set. Both must read
// the gateway's own refusals and the services' forwarded errors with their exact status codes.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type * as grpc from "@grpc/grpc-js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { createGateway, loadGatewayConfig } from "@shop/gateway";
import { createPlatform, type RunningService } from "@shop/platform";
import { createTestEnv, grpcJsClient, startTestService, type TestEnv, type TestKeys } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const python = "/usr/bin/python3";

function hasGrpcio(): boolean {
  try {
    execFileSync(python, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const grpcio = hasGrpcio();
if (!grpcio && process.env.SHOP_REQUIRE_ALL === "1") {
  throw new Error("python3-grpcio is required (apt-get install python3-grpcio python3-protobuf)");
}

let env: TestEnv;
let dir: string;
let descriptorSet: string;
let products: RunningService & { keys: TestKeys };
let inventory: RunningService;
let gateway: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "shop-interop-"));
  descriptorSet = join(dir, "shop.binpb");
  execFileSync(join(process.cwd(), "node_modules", ".bin", "buf"), ["build", "-o", descriptorSet]);
  env = await createTestEnv();
  const config = loadGatewayConfig({ ...env.serviceEnv, SHOP_PORT: "0", SHOP_HOST: "127.0.0.1" });
  const platform = await createPlatform("gateway", config);
  products = await startTestService(
    { name: "products", routes: (router) => router.service(ProductService, { listProducts: () => ({}) }) },
    { apiKeys: platform.apiKeys },
  );
  inventory = await startTestService(
    { name: "inventory", routes: (router) => router.service(InventoryService, { reserve: () => ({}) }) },
    { apiKeys: platform.apiKeys },
  );
  const instance = createGateway(platform, config, {
    upstreams: { products: products.url, inventory: inventory.url },
  });
  gateway = { url: (await instance.start()).url, stop: () => instance.stop() };
});

afterAll(async () => {
  await gateway?.stop();
  await products?.shutdown();
  await inventory?.shutdown();
  await env?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One call with Python grpcio; resolves to the status name it reported ("OK", "UNAUTHENTICATED", …). */
async function grpcioCall(path: string, request: object, credential?: string): Promise<string> {
  const metadata = credential ? [`authorization=Bearer ${credential}`] : [];
  const target = gateway.url.replace(/^http:\/\//, "");
  const { stdout } = await run(python, [
    join(import.meta.dirname, "grpcio-call.py"),
    descriptorSet,
    target,
    path,
    JSON.stringify(request),
    ...metadata,
  ]);
  return (JSON.parse(stdout) as { code: string }).code;
}

/** One call with @grpc/grpc-js; resolves to the status name it reported. */
async function grpcJsCall(
  service: typeof ProductService | typeof InventoryService,
  method: string,
  request: object,
  credential?: string,
): Promise<string> {
  const client = grpcJsClient(service, gateway.url, credential);
  try {
    await client.call(method, request);
    return "OK";
  } catch (err) {
    const { status } = await import("@grpc/grpc-js");
    return status[(err as grpc.ServiceError).code] ?? "NOT_A_STATUS";
  } finally {
    client.close();
  }
}

const reserve = { reservationId: "r-1", lines: [{ sku: "MUG-1", quantity: 1 }] };

describe.skipIf(!grpcio)("Python grpcio (gRPC C-core) through the gateway", () => {
  it("reads the gateway's refusal of a call without credentials as UNAUTHENTICATED", async () => {
    expect(await grpcioCall("/shop.products.v1.ProductService/ListProducts", {})).toBe("UNAUTHENTICATED");
  });

  it("reads the gateway's refusal of a role the RPC does not allow as PERMISSION_DENIED", async () => {
    expect(await grpcioCall("/shop.inventory.v1.InventoryService/Reserve", reserve, products.keys.seller)).toBe(
      "PERMISSION_DENIED",
    );
  });

  it("gets the services' answers when the call is allowed", async () => {
    expect(await grpcioCall("/shop.products.v1.ProductService/ListProducts", {}, products.keys.seller)).toBe("OK");
    expect(await grpcioCall("/shop.inventory.v1.InventoryService/Reserve", reserve, products.keys.service)).toBe("OK");
  });

  it("reads an error forwarded from a service (its validation) with its code", async () => {
    expect(
      await grpcioCall("/shop.inventory.v1.InventoryService/Reserve", { reservationId: "" }, products.keys.service),
    ).toBe("INVALID_ARGUMENT");
  });
});

describe("@grpc/grpc-js through the gateway", () => {
  it("reads the gateway's refusals with their exact status codes", async () => {
    expect(await grpcJsCall(ProductService, "ListProducts", {})).toBe("UNAUTHENTICATED");
    expect(await grpcJsCall(InventoryService, "Reserve", reserve, products.keys.seller)).toBe("PERMISSION_DENIED");
    expect(await grpcJsCall(ProductService, "ListProducts", {}, products.keys.seller)).toBe("OK");
    expect(await grpcJsCall(InventoryService, "Reserve", { reservationId: "" }, products.keys.service)).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
