// The inventory's expired holds, followed by the orders service: an order awaiting 3-D Secure whose hold expired is
// cancelled at once — intent canceled, stock back, a reason the customer can read — without waiting for a recovery
// pass (the timer is off here, and no webhooks are sent, so only the expiry event can settle it). Repeated or
// unrelated expiries change nothing.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ReservationChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { eventContract, namespacedStream, newEventMeta } from "@shop/platform";
import { waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holdExpiryConsumerName } from "../src/hold-expiry-handler.js";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

let h: CheckoutHarness;
let requests = 0;

beforeAll(async () => {
  h = await startCheckoutHarness({
    webhooks: false,
    ordersEnv: { SHOP_ORDERS_HOLD_SECONDS: "1", SHOP_ORDERS_RECOVERY_INTERVAL_S: "0" },
  });
  await h.addProduct("HOLD-1", 800n);
  await h.setStock("HOLD-1", 6n);
});
afterAll(() => h?.stop());

const order = (paymentMethod: string) =>
  create(CreateOrderRequestSchema, {
    requestId: `hold-expiry-${++requests}`,
    email: "guest@example.com",
    lines: [{ sku: "HOLD-1", quantity: 2n }],
    shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
    paymentMethod,
  });

interface ListedIntent {
  status: string;
}
const intentsOf = async (orderId: string) =>
  (await h.emulatorGet<{ data: ListedIntent[] }>(`/_emulator/payment_intents?metadata[order_id]=${orderId}`)).data;

/** Resolves once the orders service handled every inventory event published so far. */
async function expiriesHandled(): Promise<void> {
  const stream = namespacedStream(h.env.namespace, eventContract(ReservationChangedSchema).stream);
  const durable = `${h.env.namespace}_${holdExpiryConsumerName}`;
  await waitFor(async () => {
    const info = await h.jetstream.jsm.consumers.info(stream, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }, 10_000);
}

/** The inventory's event for an expired hold of `orderId`, as if it were delivered (again). */
const expiredHoldOf = (orderId: string, version: bigint) =>
  h.jetstream.events.publish(
    ReservationChangedSchema,
    create(ReservationChangedSchema, {
      meta: newEventMeta(orderId, version, { correlationId: orderId }),
      reservation: {
        id: orderId,
        state: ReservationState.EXPIRED,
        lines: [{ sku: "HOLD-1", quantity: 2n }],
        expireTime: timestampFromMs(Date.now()),
        createTime: timestampFromMs(Date.now() - 1_000),
        reference: orderId,
      },
    }),
  );

describe("an expired hold", () => {
  it("cancels the order awaiting 3-D Secure at once, cancels its intent and puts the stock back", async () => {
    const before = await h.payments();
    const { orders } = await h.customer();
    const placed = await orders.createOrder(order("pm_card_threeDSecure2Required"));
    expect(placed.state).toBe(OrderState.AWAITING_PAYMENT);
    expect(await h.stock("HOLD-1")).toMatchObject({ onHand: 6n, reserved: 2n });

    await waitFor(
      async () => (await orders.getOrder({ id: placed.id })).state === OrderState.CANCELLED,
      10_000,
      "the order cancelled when its hold expired",
    );
    const cancelled = await orders.getOrder({ id: placed.id });
    expect(cancelled.cancelReason).toMatch(/3-D Secure authentication was not completed in time.*not charged/);
    expect((await h.inventory.getReservation({ reservationId: placed.id })).state).toBe(ReservationState.EXPIRED);
    expect(await h.stock("HOLD-1")).toMatchObject({ onHand: 6n, reserved: 0n, available: 6n });
    expect((await intentsOf(placed.id)).map((intent) => intent.status)).toEqual(["canceled"]);
    const after = await h.payments();
    expect(after.charges.succeeded).toBe(before.charges.succeeded);
    expect(after.payment_intents.canceled - before.payment_intents.canceled).toBe(1);

    // The same expiry again (a redelivery) changes nothing.
    await expiriesHandled();
    await expiredHoldOf(placed.id, 3n);
    await expiriesHandled();
    expect((await orders.getOrder({ id: placed.id })).version).toBe(cancelled.version);
    expect((await h.payments()).payment_intents.canceled).toBe(after.payment_intents.canceled);
  });

  it("leaves a paid order as it is", async () => {
    const { orders } = await h.customer();
    const paid = await orders.createOrder(order("pm_card_visa"));
    expect(paid.state).toBe(OrderState.PAID);
    const before = await h.payments();
    await expiredHoldOf(paid.id, 9n);
    await expiriesHandled();
    expect(await orders.getOrder({ id: paid.id })).toMatchObject({ state: OrderState.PAID, version: paid.version });
    expect(await h.payments()).toEqual(before);
  });
});
