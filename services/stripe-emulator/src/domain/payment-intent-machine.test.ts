import { describe, expect, it } from "vitest";
import {
  cancelIntent,
  captureIntent,
  completeAuthentication,
  confirmIntent,
  newPaymentIntent,
  type RuleContext,
} from "./payment-intent-machine.js";
import { refundCharge } from "./refund-rules.js";
import { isStripeApiError } from "./stripe-error.js";
import type { CaptureMethod, PaymentIntentObject } from "./stripe-objects.js";
import { findTestPaymentMethod, type TestPaymentMethod } from "./test-payment-methods.js";

let counter = 0;
const ctx: RuleContext = { now: 1_900_000_000, newId: (prefix) => `${prefix}_${++counter}`, newToken: () => "token" };

function card(id: string): TestPaymentMethod {
  const method = findTestPaymentMethod(id);
  if (method === undefined) throw new Error(`no ${id}`);
  return method;
}

function intent(captureMethod: CaptureMethod = "automatic", amount = 1000): PaymentIntentObject {
  return newPaymentIntent(
    {
      amount,
      currency: "eur",
      captureMethod,
      paymentMethod: undefined,
      metadata: {},
      description: null,
      receiptEmail: null,
      statementDescriptor: null,
      statementDescriptorSuffix: null,
    },
    ctx,
  );
}

const confirmWith = (target: PaymentIntentObject, id: string) =>
  confirmIntent(
    target,
    { method: card(id), returnUrl: null, failOnAuthentication: false, challengeUrl: () => "u" },
    ctx,
  );

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (err) {
    if (isStripeApiError(err)) return err.body.code;
    throw err;
  }
  return undefined;
}

describe("PaymentIntent state machine", () => {
  it("goes requires_payment_method → succeeded with one captured charge for automatic capture", () => {
    const created = intent();
    expect(created.status).toBe("requires_payment_method");
    const change = confirmWith(created, "pm_card_visa");
    expect(change.intent).toMatchObject({
      status: "succeeded",
      amount_received: 1000,
      latest_charge: change.charge?.id,
    });
    expect(change.charge).toMatchObject({ captured: true, amount_captured: 1000, status: "succeeded" });
    expect(change.events.map((event) => event.type)).toEqual(["charge.succeeded", "payment_intent.succeeded"]);
  });

  it("holds a manual payment in requires_capture until captured", () => {
    const authorized = confirmWith(intent("manual"), "pm_card_visa");
    expect(authorized.intent).toMatchObject({ status: "requires_capture", amount_capturable: 1000 });
    const captured = captureIntent(authorized.intent, authorized.charge!, 600);
    expect(captured.intent).toMatchObject({ status: "succeeded", amount_received: 600, amount_capturable: 0 });
    expect(captured.charge).toMatchObject({ amount_captured: 600, amount_refunded: 400 });
  });

  it("refuses transitions Stripe refuses, with payment_intent_unexpected_state", () => {
    const succeeded = confirmWith(intent(), "pm_card_visa");
    expect(codeOf(() => confirmWith(succeeded.intent, "pm_card_visa"))).toBe("payment_intent_unexpected_state");
    expect(codeOf(() => cancelIntent(succeeded.intent, succeeded.charge, null, ctx))).toBe(
      "payment_intent_unexpected_state",
    );
    expect(codeOf(() => captureIntent(succeeded.intent, succeeded.charge!, undefined))).toBe(
      "payment_intent_unexpected_state",
    );
    const canceled = cancelIntent(intent(), undefined, "abandoned", ctx).intent;
    expect(codeOf(() => confirmWith(canceled, "pm_card_visa"))).toBe("payment_intent_unexpected_state");
    expect(codeOf(() => completeAuthentication(canceled, card("pm_card_visa"), ctx))).toBe(
      "payment_intent_unexpected_state",
    );
  });

  it("keeps a declined attempt as a failed charge and answers with a card error", () => {
    const change = confirmWith(intent(), "pm_card_chargeDeclined");
    expect(change.intent.status).toBe("requires_payment_method");
    expect(change.charge?.status).toBe("failed");
    expect(change.cardError?.status).toBe(402);
    expect(change.cardError?.body).toMatchObject({ type: "card_error", code: "card_declined" });
  });

  it("waits for 3-D Secure, then charges", () => {
    const waiting = confirmWith(intent(), "pm_card_threeDSecure2Required");
    expect(waiting.intent.status).toBe("requires_action");
    expect(waiting.charge).toBeUndefined();
    const done = completeAuthentication(waiting.intent, card("pm_card_threeDSecure2Required"), ctx);
    expect(done.intent.status).toBe("succeeded");
  });
});

describe("refunds", () => {
  it("never refund more than was captured", () => {
    const paid = confirmWith(intent(), "pm_card_visa");
    const first = refundCharge(paid.intent, paid.charge, { amount: 700, reason: null, metadata: {} }, ctx);
    expect(first.charge).toMatchObject({ amount_refunded: 700, refunded: false });
    expect(
      codeOf(() => refundCharge(paid.intent, first.charge, { amount: 301, reason: null, metadata: {} }, ctx)),
    ).toBe("amount_too_large");
    const rest = refundCharge(paid.intent, first.charge, { amount: undefined, reason: null, metadata: {} }, ctx);
    expect(rest.refund.amount).toBe(300);
    expect(rest.charge.refunded).toBe(true);
    expect(codeOf(() => refundCharge(paid.intent, rest.charge, { amount: 1, reason: null, metadata: {} }, ctx))).toBe(
      "charge_already_refunded",
    );
  });
});
