import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";

type CreateOrderInit = MessageInitShape<typeof CreateOrderRequestSchema>;

import { codeOf, errorOf, waitFor } from "@shop/platform/testing";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

let h: CheckoutHarness;
let requests = 0;

beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addProduct("MUG-1", 1250n);
  await h.setStock("MUG-1", 10n);
  await h.addProduct("TEE-1", 2000n);
  await h.setStock("TEE-1", 5n);
  await h.addProduct("LAST-1", 500n);
  await h.setStock("LAST-1", 1n);
  await h.addProduct("DRAFT-1", 500n, { status: 1 });
  await h.addProduct("USD-1", 700n, { currency: "USD" });
});
afterAll(() => h?.stop());

const order = (overrides: Partial<CreateOrderInit> = {}) =>
  create(CreateOrderRequestSchema, {
    requestId: `req-${++requests}-${Date.now()}`,
    email: "guest@example.com",
    lines: [{ sku: "MUG-1", quantity: 2n }],
    shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
    paymentMethod: "pm_card_visa",
    ...overrides,
  } as CreateOrderInit);

describe("checkout", () => {
  it("charges the catalog price once, commits the stock and marks the order paid", async () => {
    const before = await h.payments();
    const { orders, customerId } = await h.customer();
    const placed = await orders.createOrder(order());
    expect(placed.state).toBe(OrderState.PAID);
    expect(placed.customerId).toBe(customerId);
    expect(placed.total).toMatchObject({ currencyCode: "EUR", amountMinor: 2500n });
    expect(placed.accessToken).toMatch(/^oat_/);
    expect(await h.stock("MUG-1")).toMatchObject({ onHand: 8n, reserved: 0n });
    const after = await h.payments();
    expect(after.payment_intents.created - before.payment_intents.created).toBe(1);
    expect(after.charges.succeeded - before.charges.succeeded).toBe(1);
  });

  it("cancels on a declined card with a reason a customer can read, releasing the stock", async () => {
    const before = await h.stock("TEE-1");
    const { orders } = await h.customer();
    const placed = await orders.createOrder(
      order({ lines: [{ sku: "TEE-1", quantity: 1n }], paymentMethod: "pm_card_chargeDeclined" }),
    );
    expect(placed.state).toBe(OrderState.CANCELLED);
    expect(placed.cancelReason).toMatch(/declined.*not charged/i);
    expect(await h.stock("TEE-1")).toEqual(before);
  });

  it("waits for 3-D Secure, and the signed webhook marks the order paid once it is completed", async () => {
    const { orders } = await h.customer();
    const placed = await orders.createOrder(
      order({ lines: [{ sku: "TEE-1", quantity: 2n }], paymentMethod: "pm_card_threeDSecure2Required" }),
    );
    expect(placed.state).toBe(OrderState.AWAITING_PAYMENT);
    expect(placed.paymentNextActionUrl).toMatch(/^http/);
    expect((await h.stock("TEE-1")).reserved).toBe(2n);
    await h.completeThreeDSecure(placed.paymentNextActionUrl);
    await waitFor(async () => (await orders.getOrder({ id: placed.id })).state === OrderState.PAID, 10_000, "paid");
    expect(await h.stock("TEE-1")).toMatchObject({ reserved: 0n, onHand: 3n });
  });

  it("returns the same order for a retried request id, with one PaymentIntent", async () => {
    const before = await h.payments();
    const { orders } = await h.customer();
    const request = order();
    const [first, second] = await Promise.all([orders.createOrder(request), orders.createOrder(request)]);
    const third = await orders.createOrder(request);
    expect(second.id).toBe(first.id);
    expect(third.id).toBe(first.id);
    expect(third.state).toBe(OrderState.PAID);
    const after = await h.payments();
    expect(after.payment_intents.created - before.payment_intents.created).toBe(1);
    expect(after.charges.succeeded - before.charges.succeeded).toBe(1);
  });

  it("refuses the last unit to the second buyer as out of stock, charging nothing", async () => {
    const { orders } = await h.customer();
    expect((await orders.createOrder(order({ lines: [{ sku: "LAST-1", quantity: 1n }] }))).state).toBe(OrderState.PAID);
    const before = await h.payments();
    const refused = await errorOf(orders.createOrder(order({ lines: [{ sku: "LAST-1", quantity: 1n }] })));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toMatch(/LAST-1 is out of stock/);
    expect((await h.payments()).payment_intents.created).toBe(before.payment_intents.created);
  });
});

describe("bad input is refused clearly, with nothing reserved or charged", () => {
  const refusals: Array<[string, Partial<CreateOrderInit>, Code, RegExp]> = [
    ["an unknown SKU", { lines: [{ sku: "NOPE-1", quantity: 1n }] }, Code.InvalidArgument, /NOPE-1/],
    ["quantity 0", { lines: [{ sku: "MUG-1", quantity: 0n }] }, Code.InvalidArgument, /quantity/],
    ["quantity 10^9", { lines: [{ sku: "MUG-1", quantity: 1_000_000_000n }] }, Code.InvalidArgument, /quantity/],
    ["a missing email", { email: "" }, Code.InvalidArgument, /email/],
    [
      "a draft product",
      { lines: [{ sku: "DRAFT-1", quantity: 1n }] },
      Code.FailedPrecondition,
      /DRAFT-1 is not on sale/,
    ],
    [
      "two currencies",
      {
        lines: [
          { sku: "MUG-1", quantity: 1n },
          { sku: "USD-1", quantity: 1n },
        ],
      },
      Code.InvalidArgument,
      /one currency/,
    ],
    ["no card", { paymentMethod: "" }, Code.InvalidArgument, /payment_method/],
  ];
  for (const [what, overrides, code, message] of refusals) {
    it(`refuses ${what}`, async () => {
      const before = await h.payments();
      const stock = await h.stock("MUG-1");
      const { orders } = await h.customer();
      const error = await errorOf(orders.createOrder(order(overrides)));
      expect(error.code).toBe(code);
      expect(error.rawMessage).toMatch(message);
      expect(await h.stock("MUG-1")).toEqual(stock);
      expect((await h.payments()).payment_intents.created).toBe(before.payment_intents.created);
    });
  }
});

describe("who may read an order", () => {
  it("shows an order to its access token, its customer's session and operators; to anyone else it does not exist", async () => {
    const owner = await h.customer();
    const placed = await owner.orders.createOrder(order());
    const stranger = await h.customer("other@example.com");
    expect((await owner.orders.getOrder({ id: placed.id })).id).toBe(placed.id);
    expect((await stranger.orders.getOrder({ id: placed.id, accessToken: placed.accessToken })).id).toBe(placed.id);
    expect((await h.client(h.keys.operator).getOrder({ id: placed.id })).id).toBe(placed.id);
    expect(await codeOf(stranger.orders.getOrder({ id: placed.id }))).toBe(Code.NotFound);
    expect(await codeOf(h.client(h.keys.seller).getOrder({ id: placed.id }))).toBe(Code.NotFound);
    const forged = `${placed.accessToken.slice(0, 10)}x${placed.accessToken.slice(11)}`;
    expect(await codeOf(stranger.orders.getOrder({ id: placed.id, accessToken: forged }))).toBe(Code.NotFound);
    expect(await codeOf(stranger.orders.getOrder({ id: "ord_000000000000000000000000" }))).toBe(Code.NotFound);
    expect((await owner.orders.listOrders({})).orders.map((o) => o.id)).toEqual([placed.id]);
    expect((await stranger.orders.listOrders({})).orders).toEqual([]);
  });

  it("renews a session called with its own token for the same customer, who keeps their orders", async () => {
    const owner = await h.customer("renewing@example.com");
    const placed = await owner.orders.createOrder(order({ email: "renewing@example.com" }));
    const renewed = await h.client(owner.token).startCustomerSession({ email: "renewing@example.com" });
    expect(renewed.customerId).toBe(owner.customerId);
    expect(renewed.token).not.toBe(owner.token);
    expect((await h.client(renewed.token).listOrders({})).orders.map((o) => o.id)).toEqual([placed.id]);
    // Without a token (or with another customer's), a session is a new customer's.
    const fresh = await h.client().startCustomerSession({ email: "renewing@example.com" });
    expect(fresh.customerId).not.toBe(owner.customerId);
    expect((await h.client(fresh.token).listOrders({})).orders).toEqual([]);
  });

  it("needs a session or key to place an order", async () => {
    expect(await codeOf(h.client().createOrder(order()))).toBe(Code.Unauthenticated);
  });
});

describe("the Stripe webhook", () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${h.ordersUrl}/webhooks/stripe`, { method: "POST", body, headers });

  it("refuses unsigned, wrongly signed and too old deliveries, changing nothing", async () => {
    const { orders } = await h.customer();
    const placed = await orders.createOrder(
      order({ lines: [{ sku: "MUG-1", quantity: 1n }], paymentMethod: "pm_card_threeDSecure2Required" }),
    );
    expect(placed.state).toBe(OrderState.AWAITING_PAYMENT);
    const payload = JSON.stringify({
      id: "evt_forged",
      object: "event",
      type: "payment_intent.succeeded",
      data: { object: { id: placed.paymentIntentId, object: "payment_intent", metadata: { order_id: placed.id } } },
    });
    const sign = (secret: string, timestamp?: number) =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    expect((await post(payload)).status).toBe(400);
    expect((await post(payload, { "stripe-signature": sign("whsec_not_the_right_one") })).status).toBe(400);
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect((await post(payload, { "stripe-signature": sign("whsec_orders_suite_secret", old) })).status).toBe(400);
    const after = await orders.getOrder({ id: placed.id });
    expect(after.state).toBe(OrderState.AWAITING_PAYMENT);
    expect(after.version).toBe(placed.version);
    expect((await h.stock("MUG-1")).reserved).toBe(1n);
  });
});
