import { type ServiceError, status } from "@grpc/grpc-js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { createTestEnv, grpcJsClient, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryHarness, startInventoryHarness } from "./support/inventory-harness.js";

let env: TestEnv;
let inv: InventoryHarness;

beforeAll(async () => {
  env = await createTestEnv();
  inv = await startInventoryHarness(env);
});

afterAll(async () => {
  await inv?.stop();
  await env?.cleanup();
});

describe("interoperability with a plain gRPC client", () => {
  it("reserves and commits over gRPC with @grpc/grpc-js stubs built from the descriptor", async () => {
    await inv.operator.adjust({ sku: "GRPC-1", change: { case: "setOnHand", value: 5n }, reason: "setup" });
    const client = grpcJsClient(InventoryService, inv.url, inv.keys.service);
    try {
      const held = await client.call("Reserve", {
        reservation_id: "grpc-1",
        lines: [{ sku: "GRPC-1", quantity: "2" }],
        ttl: { seconds: "60" },
      });
      expect(held).toMatchObject({ id: "grpc-1", state: "RESERVATION_STATE_HELD" });
      const committed = await client.call("Commit", { reservation_id: "grpc-1" });
      expect(committed).toMatchObject({
        state: "RESERVATION_STATE_COMMITTED",
        lines: [{ sku: "GRPC-1", quantity: "2" }],
      });
      const stock = await client.call("GetStock", { skus: ["GRPC-1"] });
      expect(stock.levels).toEqual([{ sku: "GRPC-1", on_hand: "3", reserved: "0", available: "3", version: "3" }]);

      const refused = await client
        .call("Reserve", { reservation_id: "grpc-2", lines: [{ sku: "GRPC-1", quantity: "4" }] })
        .catch((err: ServiceError) => err);
      expect((refused as ServiceError).code).toBe(status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
    }
  });
});
