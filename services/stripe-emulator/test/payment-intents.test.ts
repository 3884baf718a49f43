import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatorHarness, rejectionOf, startEmulator } from "./support/emulator-harness.js";

let emu: EmulatorHarness;

beforeAll(async () => {
  emu = await startEmulator();
});

afterAll(async () => {
  await emu?.stop();
});

describe("paying with a card", () => {
  it("charges pm_card_visa on create+confirm: the intent succeeds and its charge exists", async () => {
    const intent = await emu.stripe.paymentIntents.create({
      amount: 1250,
      currency: "EUR",
      payment_method: "pm_card_visa",
      confirm: true,
      metadata: { order_id: "ord_happy" },
      description: "Order ord_happy",
      receipt_email: "guest@example.com",
    });
    expect(intent).toMatchObject({
      object: "payment_intent",
      status: "succeeded",
      amount: 1250,
      amount_received: 1250,
      currency: "eur",
      capture_method: "automatic",
      metadata: { order_id: "ord_happy" },
      livemode: false,
    });
    expect(intent.id).toMatch(/^pi_[A-Za-z0-9]{24}$/);
    expect(intent.client_secret).toMatch(new RegExp(`^${intent.id}_secret_[A-Za-z0-9]+$`));
    expect(intent.lastResponse.requestId).toMatch(/^req_[A-Za-z0-9]{14}$/);

    const charge = await emu.stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({
      object: "charge",
      status: "succeeded",
      paid: true,
      captured: true,
      amount_captured: 1250,
      amount_refunded: 0,
      refunded: false,
      payment_intent: intent.id,
      payment_method_details: { type: "card", card: { brand: "visa", last4: "4242" } },
    });
  });

  it("creates, then confirms in a second call, and shows the same intent on retrieve", async () => {
    const created = await emu.stripe.paymentIntents.create({ amount: 900, currency: "usd" });
    expect(created.status).toBe("requires_payment_method");
    const confirmed = await emu.stripe.paymentIntents.confirm(created.id, { payment_method: "pm_card_mastercard" });
    expect(confirmed.status).toBe("succeeded");
    const retrieved = await emu.stripe.paymentIntents.retrieve(created.id, { expand: ["latest_charge"] });
    expect(retrieved.status).toBe("succeeded");
    expect((retrieved.latest_charge as Stripe.Charge).payment_method_details?.card?.brand).toBe("mastercard");
  });

  it("declines pm_card_chargeDeclined with a StripeCardError and leaves the intent needing a payment method", async () => {
    const err = await rejectionOf(
      emu.stripe.paymentIntents.create({
        amount: 2000,
        currency: "eur",
        payment_method: "pm_card_chargeDeclined",
        confirm: true,
      }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, code: "card_declined", decline_code: "generic_decline" });
    const failed = err.payment_intent as Stripe.PaymentIntent;
    expect(failed.status).toBe("requires_payment_method");
    expect(failed.last_payment_error).toMatchObject({ type: "card_error", code: "card_declined" });

    const retrieved = await emu.stripe.paymentIntents.retrieve(failed.id);
    expect(retrieved.status).toBe("requires_payment_method");
    expect(retrieved.last_payment_error?.decline_code).toBe("generic_decline");
    expect((await emu.stripe.charges.retrieve(retrieved.latest_charge as string)).status).toBe("failed");

    // The customer tries another card: the same intent now succeeds.
    const retried = await emu.stripe.paymentIntents.confirm(failed.id, { payment_method: "pm_card_visa" });
    expect(retried.status).toBe("succeeded");
    expect(retried.last_payment_error).toBeNull();
  });
});

describe("manual capture", () => {
  it("authorizes first (requires_capture), then captures the full amount", async () => {
    const before = await emu.stats();
    const intent = await emu.stripe.paymentIntents.create({
      amount: 5000,
      currency: "eur",
      payment_method: "pm_card_visa",
      capture_method: "manual",
      confirm: true,
    });
    expect(intent).toMatchObject({ status: "requires_capture", amount_capturable: 5000, amount_received: 0 });
    expect((await emu.stripe.charges.retrieve(intent.latest_charge as string)).captured).toBe(false);
    expect((await emu.stats()).charges.captured).toBe(before.charges.captured);

    const captured = await emu.stripe.paymentIntents.capture(intent.id);
    expect(captured).toMatchObject({ status: "succeeded", amount_capturable: 0, amount_received: 5000 });
    expect(await emu.stripe.charges.retrieve(intent.latest_charge as string)).toMatchObject({
      captured: true,
      amount_captured: 5000,
    });
    expect((await emu.stats()).charges.captured).toBe(before.charges.captured + 1);
  });

  it("captures part of the authorization with amount_to_capture and releases the rest", async () => {
    const intent = await emu.stripe.paymentIntents.create({
      amount: 5000,
      currency: "eur",
      payment_method: "pm_card_visa",
      capture_method: "manual",
      confirm: true,
    });
    const captured = await emu.stripe.paymentIntents.capture(intent.id, { amount_to_capture: 3000 });
    expect(captured.amount_received).toBe(3000);
    expect(await emu.stripe.charges.retrieve(intent.latest_charge as string)).toMatchObject({
      amount_captured: 3000,
      amount_refunded: 2000,
    });
  });

  it("refuses to capture more than was authorized, and to capture twice", async () => {
    const intent = await emu.stripe.paymentIntents.create({
      amount: 1000,
      currency: "eur",
      payment_method: "pm_card_visa",
      capture_method: "manual",
      confirm: true,
    });
    const tooMuch = await rejectionOf(emu.stripe.paymentIntents.capture(intent.id, { amount_to_capture: 1001 }));
    expect(tooMuch).toMatchObject({ statusCode: 400, code: "amount_too_large", param: "amount_to_capture" });
    await emu.stripe.paymentIntents.capture(intent.id);
    const twice = await rejectionOf(emu.stripe.paymentIntents.capture(intent.id));
    expect(twice).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(twice).toMatchObject({
      statusCode: 400,
      type: "StripeInvalidRequestError",
      code: "payment_intent_unexpected_state",
    });
  });
});

describe("cancel", () => {
  it("cancels an unconfirmed intent with a reason, and refuses to confirm it afterwards", async () => {
    const intent = await emu.stripe.paymentIntents.create({ amount: 700, currency: "eur" });
    const canceled = await emu.stripe.paymentIntents.cancel(intent.id, { cancellation_reason: "abandoned" });
    expect(canceled).toMatchObject({ status: "canceled", cancellation_reason: "abandoned" });
    expect(canceled.canceled_at).toBeGreaterThan(0);
    const err = await rejectionOf(emu.stripe.paymentIntents.confirm(intent.id, { payment_method: "pm_card_visa" }));
    expect(err).toMatchObject({ statusCode: 400, code: "payment_intent_unexpected_state" });
  });

  it("releases an authorization that was not captured", async () => {
    const intent = await emu.stripe.paymentIntents.create({
      amount: 1500,
      currency: "eur",
      payment_method: "pm_card_visa",
      capture_method: "manual",
      confirm: true,
    });
    const canceled = await emu.stripe.paymentIntents.cancel(intent.id);
    expect(canceled).toMatchObject({ status: "canceled", amount_capturable: 0, amount_received: 0 });
    expect(await emu.stripe.charges.retrieve(intent.latest_charge as string)).toMatchObject({
      captured: false,
      refunded: true,
      amount_refunded: 1500,
    });
  });

  it("refuses to cancel a succeeded intent", async () => {
    const intent = await emu.stripe.paymentIntents.create({
      amount: 800,
      currency: "eur",
      payment_method: "pm_card_visa",
      confirm: true,
    });
    const err = await rejectionOf(emu.stripe.paymentIntents.cancel(intent.id));
    expect(err).toMatchObject({ statusCode: 400, code: "payment_intent_unexpected_state" });
    expect((await emu.stripe.paymentIntents.retrieve(intent.id)).status).toBe("succeeded");
  });
});

describe("refusals shaped as Stripe's", () => {
  it("answers an unknown intent with StripeInvalidRequestError resource_missing (404)", async () => {
    const err = await rejectionOf(emu.stripe.paymentIntents.retrieve("pi_doesnotexist000000000000"));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("refuses a wrong API key with StripeAuthenticationError and no key at all with 401", async () => {
    const err = await rejectionOf(emu.client({ key: "sk_test_someoneelse1234" }).paymentIntents.retrieve("pi_any"));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.message).not.toContain("someoneelse1234");
    const anonymous = await fetch(`${emu.url}/v1/payment_intents`, { method: "POST" });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("names the parameter that is missing or not an integer", async () => {
    const missing = await rejectionOf(emu.stripe.paymentIntents.create({ currency: "eur" } as never));
    expect(missing).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "amount" });
    const fraction = await rejectionOf(emu.stripe.paymentIntents.create({ amount: 12.5, currency: "eur" }));
    expect(fraction).toMatchObject({ code: "parameter_invalid_integer", param: "amount" });
    const zero = await rejectionOf(emu.stripe.paymentIntents.create({ amount: 0, currency: "eur" }));
    expect(zero).toMatchObject({ code: "parameter_invalid_integer", param: "amount" });
    const small = await rejectionOf(emu.stripe.paymentIntents.create({ amount: 10, currency: "eur" }));
    expect(small).toMatchObject({ code: "amount_too_small", param: "amount" });
    const currency = await rejectionOf(emu.stripe.paymentIntents.create({ amount: 1000, currency: "euro" }));
    expect(currency).toMatchObject({ statusCode: 400, param: "currency" });
    const unknown = await rejectionOf(
      emu.stripe.paymentIntents.create({ amount: 1000, currency: "eur", colour: "red" } as never),
    );
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "colour" });
  });

  it("refuses a payment method that is not one of the test cards as a missing resource", async () => {
    const err = await rejectionOf(
      emu.stripe.paymentIntents.create({ amount: 1000, currency: "eur", payment_method: "pm_123", confirm: true }),
    );
    expect(err).toMatchObject({ statusCode: 400, code: "resource_missing", param: "payment_method" });
  });
});
