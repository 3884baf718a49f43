// Order recovery in-process: 3-D Secure abandoned (the hold runs out, recovery cancels the intent and the order, the
// stock comes back), and RecoverOrders as an operator's call. Crashes of a real process: crash-recovery.test.ts.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { codeOf, scrapedValue, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRecoveryClaims } from "../src/store/recovery-claims.js";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

let h: CheckoutHarness;
let requests = 0;

beforeAll(async () => {
  // A 2 s hold and a recovery pass every second on orders unchanged for 1 s; no webhooks, so only recovery settles.
  h = await startCheckoutHarness({
    webhooks: false,
    ordersEnv: {
      SHOP_ORDERS_HOLD_SECONDS: "2",
      SHOP_ORDERS_RECOVERY_AFTER_S: "1",
      SHOP_ORDERS_RECOVERY_INTERVAL_S: "1",
    },
  });
  await h.addProduct("SOCK-1", 900n);
  await h.setStock("SOCK-1", 5n);
});
afterAll(() => h?.stop());

const threeDSecureOrder = () =>
  create(CreateOrderRequestSchema, {
    requestId: `rec-${++requests}-${Date.now()}`,
    email: "guest@example.com",
    lines: [{ sku: "SOCK-1", quantity: 2n }],
    shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
    paymentMethod: "pm_card_threeDSecure2Required",
  });

const metric = (name: string, labels: Record<string, string> = {}) => scrapedValue(h.ordersUrl, name, labels);

interface ListedIntent {
  id: string;
  status: string;
}
const intentsOf = async (orderId: string) =>
  (await h.emulatorGet<{ data: ListedIntent[] }>(`/_emulator/payment_intents?metadata[order_id]=${orderId}`)).data;

describe("3-D Secure abandoned", () => {
  it("cancels the order with a reason once the hold ran out, cancels the intent and puts the stock back", async () => {
    const before = await h.payments();
    const { orders } = await h.customer();
    const placed = await orders.createOrder(threeDSecureOrder());
    expect(placed.state).toBe(OrderState.AWAITING_PAYMENT);
    expect(await h.stock("SOCK-1")).toMatchObject({ onHand: 5n, reserved: 2n });
    const started = Date.now();
    // Unchanged for over a second, it counts as stuck until its hold runs out at 2 s.
    await waitFor(async () => ((await metric("order_recovery_stuck_orders")) ?? 0) >= 1, 15_000, "a stuck order");
    await waitFor(
      async () => (await orders.getOrder({ id: placed.id })).state === OrderState.CANCELLED,
      15_000,
      "the abandoned order cancelled",
    );
    // Not before the hold ran out: the customer had their 2 s to authenticate.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const cancelled = await orders.getOrder({ id: placed.id });
    expect(cancelled.cancelReason).toMatch(/3-D Secure authentication was not completed in time.*not charged/);
    expect(await h.stock("SOCK-1")).toMatchObject({ onHand: 5n, reserved: 0n, available: 5n });
    expect((await intentsOf(placed.id)).map((intent) => intent.status)).toEqual(["canceled"]);
    const after = await h.payments();
    expect(after.charges.succeeded).toBe(before.charges.succeeded);
    expect(after.payment_intents.created - before.payment_intents.created).toBe(1);
    expect(await metric("order_recovery_settled_total", { state: "CANCELLED" })).toBeGreaterThanOrEqual(1);
    expect(await metric("order_recovery_stuck_orders")).toBe(0);
    // Passes run every second.
    await waitFor(
      async () => ((await metric("order_recovery_last_pass_timestamp_seconds")) ?? 0) * 1000 > started,
      15_000,
      "a pass after the order",
    );
  });
});

describe("RecoverOrders", () => {
  it("with dry_run reports what it would do and changes nothing; only operators may call it", async () => {
    const { orders } = await h.customer();
    const placed = await orders.createOrder(threeDSecureOrder());
    const operator = h.client(h.keys.operator);
    const report = await operator.recoverOrders({ dryRun: true, olderThan: durationFromMs(0) });
    const mine = report.orders.find((recovered) => recovered.orderId === placed.id);
    expect(mine).toMatchObject({ stateBefore: OrderState.AWAITING_PAYMENT, stateAfter: OrderState.AWAITING_PAYMENT });
    expect(mine?.action).toMatch(/waiting for the customer's 3-D Secure/);
    expect((await orders.getOrder({ id: placed.id })).version).toBe(placed.version);
    expect(await codeOf(orders.recoverOrders({ dryRun: true }))).toBe(Code.PermissionDenied);
    await waitFor(
      async () => (await orders.getOrder({ id: placed.id })).state === OrderState.CANCELLED,
      15_000,
      "cancelled",
    );
  });
});

describe("recovery claims", () => {
  it("lets exactly one of several workers claim an order, and the next one after it let go", async () => {
    const open = (owner: string) =>
      openRecoveryClaims({ js: h.jetstream.js, namespace: h.env.namespace, ttlMs: 60_000, owner });
    const workers = await Promise.all([open("a"), open("b"), open("c")]);
    const won = await Promise.all(workers.map((worker) => worker.claim("ord_claimed")));
    expect(won.filter(Boolean)).toHaveLength(1);
    await workers[won.indexOf(true)]?.release("ord_claimed");
    expect(await workers[won.indexOf(false)]?.claim("ord_claimed")).toBe(true);
  });
});
