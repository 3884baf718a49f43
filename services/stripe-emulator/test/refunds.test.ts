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

const paid = (amount: number) =>
  emu.stripe.paymentIntents.create({ amount, currency: "eur", payment_method: "pm_card_visa", confirm: true });

describe("refunds", () => {
  it("refunds a payment in full when no amount is given", async () => {
    const intent = await paid(3000);
    const refund = await emu.stripe.refunds.create({ payment_intent: intent.id, reason: "requested_by_customer" });
    expect(refund).toMatchObject({
      object: "refund",
      amount: 3000,
      currency: "eur",
      status: "succeeded",
      payment_intent: intent.id,
      charge: intent.latest_charge,
      reason: "requested_by_customer",
    });
    expect(refund.id).toMatch(/^re_/);
    expect(await emu.stripe.refunds.retrieve(refund.id)).toMatchObject({ id: refund.id, amount: 3000 });
    expect(await emu.stripe.charges.retrieve(intent.latest_charge as string)).toMatchObject({
      amount_refunded: 3000,
      refunded: true,
    });
  });

  it("refunds in parts, never above what was captured", async () => {
    const intent = await paid(3000);
    await emu.stripe.refunds.create({ payment_intent: intent.id, amount: 1000 });
    const charge = await emu.stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 1000, refunded: false });

    const tooMuch = await rejectionOf(emu.stripe.refunds.create({ payment_intent: intent.id, amount: 2001 }));
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooMuch).toMatchObject({ statusCode: 400, code: "amount_too_large", param: "amount" });

    const rest = await emu.stripe.refunds.create({ charge: intent.latest_charge as string });
    expect(rest.amount).toBe(2000);
    expect(await emu.stripe.charges.retrieve(intent.latest_charge as string)).toMatchObject({
      amount_refunded: 3000,
      refunded: true,
    });
    const again = await rejectionOf(emu.stripe.refunds.create({ payment_intent: intent.id, amount: 1 }));
    expect(again).toMatchObject({ statusCode: 400, code: "charge_already_refunded" });
  });

  it("refunds only what a partial capture took", async () => {
    const intent = await emu.stripe.paymentIntents.create({
      amount: 5000,
      currency: "eur",
      payment_method: "pm_card_visa",
      capture_method: "manual",
      confirm: true,
    });
    await emu.stripe.paymentIntents.capture(intent.id, { amount_to_capture: 2000 });
    const err = await rejectionOf(emu.stripe.refunds.create({ payment_intent: intent.id, amount: 2001 }));
    expect(err).toMatchObject({ code: "amount_too_large" });
    expect((await emu.stripe.refunds.create({ payment_intent: intent.id })).amount).toBe(2000);
  });

  it("refuses to refund a payment that was not taken", async () => {
    const intent = await emu.stripe.paymentIntents.create({ amount: 1000, currency: "eur" });
    const err = await rejectionOf(emu.stripe.refunds.create({ payment_intent: intent.id }));
    expect(err).toMatchObject({ statusCode: 400, code: "payment_intent_unexpected_state" });
    const missing = await rejectionOf(emu.stripe.refunds.create({ payment_intent: "pi_missing" }));
    expect(missing).toMatchObject({ statusCode: 400, code: "resource_missing", param: "payment_intent" });
  });

  it("counts refunds and refunded amounts for tests", async () => {
    const before = await emu.stats();
    const intent = await paid(1200);
    await emu.stripe.refunds.create({ payment_intent: intent.id, amount: 200 });
    const after = await emu.stats();
    expect(after.refunds.created).toBe(before.refunds.created + 1);
    expect(after.refunds.amount_refunded.eur).toBe((before.refunds.amount_refunded.eur ?? 0) + 200);
  });
});
