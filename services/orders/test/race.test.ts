// The race of issue 9: 500 concurrent CreateOrder calls for 1 unit each of a SKU with 50 in stock, over two replicas
// of the orders service on one namespace → exactly 50 paid, 450 refused as out of stock, stock 0, 50 charges.
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
  const before = await h.payments();
  const { outcomes, seconds } = await h.race("RACE-1", 500);
  console.log(`race: 500 checkouts over 2 replicas settled in ${(seconds * 1000).toFixed(0)} ms`, outcomes);
  expect(outcomes).toEqual({ paid: 50, "out of stock": 450 });
  expect(await h.stock("RACE-1")).toMatchObject({ onHand: 0n, reserved: 0n, available: 0n });
  const after = await h.payments();
  expect(after.charges.succeeded - before.charges.succeeded).toBe(50);
  expect(after.payment_intents.created - before.payment_intents.created).toBe(50);
}, 120_000);
