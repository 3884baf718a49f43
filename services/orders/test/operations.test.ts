import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Money } from "@shop/contracts/shop/common/v1/money_pb.js";
import { OrderPlacedSchema } from "@shop/contracts/shop/orders/v1/events_pb.js";
import { OrderSchema, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { newEventMeta } from "@shop/platform";
import { codeOf, errorOf } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderIdFor } from "../src/domain/order-ids.js";
import { priceLines } from "../src/domain/pricing.js";
import { runCheckout, type SagaPorts } from "../src/order-saga.js";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

type CreateOrderInit = MessageInitShape<typeof CreateOrderRequestSchema>;

let h: CheckoutHarness;
let requests = 0;
let skus = 0;

beforeAll(async () => {
  h = await startCheckoutHarness();
});
afterAll(() => h?.stop());

const order = (overrides: Partial<CreateOrderInit> = {}) =>
  create(CreateOrderRequestSchema, {
    requestId: `ops-${++requests}-${Date.now()}`,
    email: "guest@example.com",
    shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
    paymentMethod: "pm_card_visa",
    ...overrides,
  } as CreateOrderInit);

/** A fresh SKU in the catalog with stock 10, sold by `sellerId` (an operator's product when empty). */
async function stockedSku(priceMinor = 1250n, sellerId = ""): Promise<string> {
  const sku = `OPS-${++skus}`;
  await h.addProduct(sku, priceMinor, { sellerId });
  await h.setStock(sku, 10n);
  return sku;
}

/** A paid order of `quantity` units of a fresh SKU, placed by a new customer. */
async function paidOrder(quantity = 2n) {
  const sku = await stockedSku();
  const customer = await h.customer();
  const placed = await customer.orders.createOrder(order({ lines: [{ sku, quantity }] }));
  expect(placed.state).toBe(OrderState.PAID);
  return { sku, customer, placed };
}

const operator = () => h.client(h.keys.operator);

describe("cancelling an order", () => {
  it("releases the hold and cancels the PaymentIntent of an order awaiting 3-D Secure", async () => {
    const sku = await stockedSku();
    const { orders } = await h.customer();
    const placed = await orders.createOrder(
      order({ lines: [{ sku, quantity: 3n }], paymentMethod: "pm_card_threeDSecure2Required" }),
    );
    expect(placed.state).toBe(OrderState.AWAITING_PAYMENT);
    expect((await h.stock(sku)).reserved).toBe(3n);
    const before = await h.payments();

    const cancelled = await orders.cancelOrder({ id: placed.id, reason: "Changed my mind." });
    expect(cancelled.state).toBe(OrderState.CANCELLED);
    expect(cancelled.cancelReason).toBe("Changed my mind.");
    expect(await h.stock(sku)).toMatchObject({ onHand: 10n, reserved: 0n, available: 10n });
    const after = await h.payments();
    expect(after.payment_intents.canceled - before.payment_intents.canceled).toBe(1);
    expect(after.refunds.created).toBe(before.refunds.created);
    // Cancelling again returns the order unchanged.
    expect((await orders.cancelOrder({ id: placed.id })).version).toBe(cancelled.version);
  });

  it("refunds a payment completed while the order awaiting 3-D Secure is cancelled, before its webhook", async () => {
    // No webhooks here: the payment succeeds at Stripe and the orders service has not heard of it yet.
    const quiet = await startCheckoutHarness({ webhooks: false });
    try {
      await quiet.addProduct("LATE-1", 1250n);
      await quiet.setStock("LATE-1", 10n);
      const { orders } = await quiet.customer();
      const placed = await orders.createOrder(
        order({ lines: [{ sku: "LATE-1", quantity: 2n }], paymentMethod: "pm_card_threeDSecure2Required" }),
      );
      expect(placed.state).toBe(OrderState.AWAITING_PAYMENT);
      await quiet.completeThreeDSecure(placed.paymentNextActionUrl);
      const before = await quiet.payments();

      const cancelled = await orders.cancelOrder({ id: placed.id, reason: "Changed my mind." });
      expect(cancelled.state).toBe(OrderState.CANCELLED);
      expect(cancelled.refunded?.amountMinor).toBe(2500n);
      expect((await quiet.payments()).refunds.created - before.refunds.created).toBe(1);
      expect(await quiet.stock("LATE-1")).toMatchObject({ onHand: 10n, reserved: 0n });
    } finally {
      await quiet.stop();
    }
  });

  it("refunds a paid order in full and puts its units back once, however often the cancel is repeated", async () => {
    const { sku, customer, placed } = await paidOrder(2n);
    expect((await h.stock(sku)).onHand).toBe(8n);
    const before = await h.payments();

    const [first, second] = await Promise.all([
      customer.orders.cancelOrder({ id: placed.id, reason: "Too late for the party." }),
      customer.orders.cancelOrder({ id: placed.id, reason: "Too late for the party." }),
    ]);
    const third = await operator().cancelOrder({ id: placed.id });
    for (const cancelled of [first, second, third]) expect(cancelled.state).toBe(OrderState.CANCELLED);
    expect([first.version, second.version]).toEqual([third.version, third.version]);
    expect(third.refunded).toMatchObject({ currencyCode: "EUR", amountMinor: 2500n });
    expect(third.refunds).toHaveLength(1);
    expect(third.refunds[0]?.refundId).toMatch(/^re_/);
    expect(await h.stock(sku)).toMatchObject({ onHand: 10n, reserved: 0n });
    expect((await h.payments()).refunds.created - before.refunds.created).toBe(1);
  });

  it("refunds a card a checkout still running had charged, and its confirm finds the intent cancelled", async () => {
    // A checkout stopped right after the card was charged, before it recorded the payment (the order is PENDING and
    // names no intent): what a customer cancelling at that moment, or a checkout process that died there, leaves.
    const sku = await stockedSku();
    const customer = await h.customer();
    const requestId = `interrupted-${Date.now()}`;
    const { lines, subtotal } = priceLines([{ sku, quantity: 2n }] as never, h.orders.prices.lookup);
    const placed = create(OrderSchema, {
      id: orderIdFor(customer.customerId, requestId),
      customerId: customer.customerId,
      email: "guest@example.com",
      lines,
      subtotal,
      total: subtotal,
      state: OrderState.PENDING,
    });
    const stopAfterCharge: SagaPorts = {
      ...h.orders.ports,
      afterStep: (step) => {
        if (step === "intent-confirmed") throw new Error("checkout interrupted after the charge");
      },
    };
    await expect(runCheckout(stopAfterCharge, placed, requestId, "pm_card_visa")).rejects.toThrow(/interrupted/);
    expect((await customer.orders.getOrder({ id: placed.id })).state).toBe(OrderState.PENDING);
    const before = await h.payments();

    const cancelled = await customer.orders.cancelOrder({ id: placed.id, reason: "Ordered twice." });
    expect(cancelled.state).toBe(OrderState.CANCELLED);
    expect(cancelled.refunded).toMatchObject({ currencyCode: "EUR", amountMinor: 2500n });
    expect((await h.payments()).refunds.created - before.refunds.created).toBe(1);
    expect(await h.stock(sku)).toMatchObject({ onHand: 10n, reserved: 0n });

    // A checkout cancelled before it charged gets its intent back cancelled and charges nothing.
    const late = create(OrderSchema, { ...placed, id: orderIdFor(customer.customerId, `${requestId}-late`) });
    await h.orders.ports.store.append(
      create(OrderPlacedSchema, {
        meta: newEventMeta(late.id, 1n, { eventId: `${late.id}:v1` }),
        order: late,
        requestId: `${requestId}-late`,
      }),
      0,
    );
    await customer.orders.cancelOrder({ id: late.id });
    const charges = (await h.payments()).charges.succeeded;
    const outcome = await h.orders.ports.payments.confirm(
      late.id,
      (await h.orders.ports.payments.createIntent(late.id, subtotal as Money)).intentId,
      "pm_card_visa",
    );
    expect(outcome).toEqual({ status: "failed", message: "The order was cancelled." });
    expect((await h.payments()).charges.succeeded).toBe(charges);
  });

  it("refuses to cancel a shipped order and says to ask for a refund", async () => {
    const { customer, placed } = await paidOrder();
    await operator().fulfillOrder({ id: placed.id, trackingNumber: "1Z999", carrier: "UPS" });
    const refused = await errorOf(customer.orders.cancelOrder({ id: placed.id }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/already shipped: ask for a refund/);
    expect((await customer.orders.getOrder({ id: placed.id })).state).toBe(OrderState.FULFILLED);
  });

  it("lets only the order's own customer (or an operator) cancel it", async () => {
    const { placed } = await paidOrder();
    const stranger = await h.customer("stranger@example.com");
    expect(await codeOf(stranger.orders.cancelOrder({ id: placed.id }))).toBe(Code.NotFound);
    expect((await operator().getOrder({ id: placed.id })).state).toBe(OrderState.PAID);
  });
});

describe("refunding an order", () => {
  it("refunds part, then the rest, and refuses more than is left without calling Stripe", async () => {
    const { placed } = await paidOrder(2n); // 2 × 12.50 EUR
    const before = await h.payments();
    const partial = await operator().refundOrder({
      id: placed.id,
      requestId: `refund-part-${placed.id}`,
      amount: { currencyCode: "EUR", amountMinor: 1000n },
      reason: "Chipped mug",
    });
    expect(partial.state).toBe(OrderState.PARTIALLY_REFUNDED);
    expect(partial.refunded?.amountMinor).toBe(1000n);

    const tooMuch = await errorOf(
      operator().refundOrder({
        id: placed.id,
        requestId: `refund-too-much-${placed.id}`,
        amount: { currencyCode: "EUR", amountMinor: 1501n },
      }),
    );
    expect(tooMuch.code).toBe(Code.InvalidArgument);
    expect(tooMuch.rawMessage).toMatch(/amount/);
    expect((await h.payments()).refunds.created - before.refunds.created).toBe(1);

    const rest = await operator().refundOrder({ id: placed.id, requestId: `refund-rest-${placed.id}` });
    expect(rest.state).toBe(OrderState.REFUNDED);
    expect(rest.refunded?.amountMinor).toBe(2500n);
    expect(rest.refunds.map((r) => r.amount?.amountMinor)).toEqual([1000n, 1500n]);
    expect((await h.payments()).refunds.created - before.refunds.created).toBe(2);
    const nothingLeft = await errorOf(operator().refundOrder({ id: placed.id, requestId: `refund-more-${placed.id}` }));
    expect(nothingLeft.code).toBe(Code.FailedPrecondition);
  });

  it("refunds once for a retried request id", async () => {
    const { placed } = await paidOrder(1n);
    const before = await h.payments();
    const request = {
      id: placed.id,
      requestId: `refund-retry-${placed.id}`,
      amount: { currencyCode: "EUR", amountMinor: 500n },
    };
    const [first, second] = await Promise.all([operator().refundOrder(request), operator().refundOrder(request)]);
    const third = await operator().refundOrder(request);
    for (const answer of [first, second, third]) expect(answer.refunded?.amountMinor).toBe(500n);
    expect(third.refunds).toHaveLength(1);
    expect((await h.payments()).refunds.created - before.refunds.created).toBe(1);
  });

  it("is for operators only", async () => {
    const { customer, placed } = await paidOrder(1n);
    const refused = await codeOf(customer.orders.refundOrder({ id: placed.id, requestId: `refund-cust-${placed.id}` }));
    expect(refused).toBe(Code.PermissionDenied);
  });
});

describe("sellers", () => {
  it("fulfil an order with a line of theirs; to another seller the order does not exist", async () => {
    const seller = h.seller();
    const unrelated = h.seller();
    const theirs = await stockedSku(900n, seller.sellerId);
    const shops = await stockedSku(1250n);
    const { orders } = await h.customer();
    const placed = await orders.createOrder(
      order({
        lines: [
          { sku: theirs, quantity: 1n },
          { sku: shops, quantity: 1n },
        ],
      }),
    );
    expect(placed.state).toBe(OrderState.PAID);
    expect(placed.lines.map((line) => line.sellerId)).toEqual([seller.sellerId, ""]);

    const refused = await errorOf(
      unrelated.orders.fulfillOrder({ id: placed.id, trackingNumber: "X", carrier: "DHL" }),
    );
    expect(refused.code).toBe(Code.NotFound);
    expect((await orders.getOrder({ id: placed.id })).state).toBe(OrderState.PAID);

    const shipped = await seller.orders.fulfillOrder({ id: placed.id, trackingNumber: "00340434", carrier: "DHL" });
    expect(shipped.state).toBe(OrderState.FULFILLED);
    expect(shipped.lines.map((line) => line.sku)).toEqual([theirs]);
    const seen = await orders.getOrder({ id: placed.id });
    expect(seen).toMatchObject({ state: OrderState.FULFILLED, trackingNumber: "00340434", carrier: "DHL" });
    expect(seen.fulfillTime).toBeDefined();
  });

  it("cannot ship an order that is not paid, and are told what to do", async () => {
    const sku = await stockedSku();
    const { orders } = await h.customer();
    const placed = await orders.createOrder(
      order({ lines: [{ sku, quantity: 1n }], paymentMethod: "pm_card_threeDSecure2Required" }),
    );
    const refused = await errorOf(operator().fulfillOrder({ id: placed.id, trackingNumber: "1", carrier: "UPS" }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/not paid yet: ship it once it is paid/);
  });

  it("see only the orders with a line of theirs, and only their lines", async () => {
    const alice = h.seller();
    const bob = h.seller();
    const alicesSku = await stockedSku(900n, alice.sellerId);
    const bobsSku = await stockedSku(700n, bob.sellerId);
    const shops = await stockedSku(1250n);
    const { orders } = await h.customer();
    const mixed = await orders.createOrder(
      order({
        lines: [
          { sku: alicesSku, quantity: 2n },
          { sku: shops, quantity: 1n },
        ],
      }),
    );
    const bobs = await orders.createOrder(order({ lines: [{ sku: bobsSku, quantity: 1n }] }));
    await orders.createOrder(order({ lines: [{ sku: shops, quantity: 1n }] }));

    const alicesList = (await alice.orders.listOrders({})).orders;
    expect(alicesList.map((o) => o.id)).toEqual([mixed.id]);
    expect(alicesList[0]?.lines.map((line) => line.sku)).toEqual([alicesSku]);
    expect(alicesList[0]?.total).toMatchObject({ currencyCode: "EUR", amountMinor: 1800n });
    expect(alicesList[0]?.paymentClientSecret).toBe("");
    expect((await bob.orders.listOrders({})).orders.map((o) => o.id)).toEqual([bobs.id]);

    expect((await alice.orders.getOrder({ id: mixed.id })).lines.map((line) => line.sku)).toEqual([alicesSku]);
    expect(await codeOf(bob.orders.getOrder({ id: mixed.id }))).toBe(Code.NotFound);
  });
});
