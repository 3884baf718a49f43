// The race of issue 9: 500 concurrent CreateOrder calls for 1 unit each of a SKU with 50 in stock, over two replicas
// of the orders service on one namespace → exactly 50 paid, 450 refused as out of stock, stock 0, 50 charges.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

let h: CheckoutHarness;

beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addProduct("RACE-1", 1500n);
  await h.setStock("RACE-1", 50n);
}, 30_000);
afterAll(() => h?.stop());

it("sells exactly the 50 units in stock to 500 concurrent buyers over two replicas", async () => {
  const replica = await h.startReplica();
  const { token } = await h.customer();
  const replicas = [h.client(token), replica.client(token)];
  const before = await h.payments();
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: 500 }, async (_, i) => {
      const request = create(CreateOrderRequestSchema, {
        requestId: `race-request-${i}`,
        email: "racer@example.com",
        lines: [{ sku: "RACE-1", quantity: 1n }],
        shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
        paymentMethod: "pm_card_visa",
      });
      try {
        const order = await replicas[i % 2]?.createOrder(request);
        return order?.state === OrderState.PAID ? "paid" : `state ${order?.state}`;
      } catch (err) {
        const error = ConnectError.from(err);
        if (error.code === Code.ResourceExhausted && /RACE-1 is out of stock/.test(error.rawMessage)) {
          return "out of stock";
        }
        return `${Code[error.code]}: ${error.rawMessage}`;
      }
    }),
  );
  const settleMs = performance.now() - started;
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  console.log(`race: 500 checkouts over 2 replicas settled in ${settleMs.toFixed(0)} ms`, Object.fromEntries(counts));
  expect(Object.fromEntries(counts)).toEqual({ paid: 50, "out of stock": 450 });
  expect(await h.stock("RACE-1")).toMatchObject({ onHand: 0n, reserved: 0n, available: 0n });
  const after = await h.payments();
  expect(after.charges.succeeded - before.charges.succeeded).toBe(50);
  expect(after.payment_intents.created - before.payment_intents.created).toBe(50);
}, 120_000);
