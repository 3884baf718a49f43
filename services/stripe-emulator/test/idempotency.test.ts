import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, type EmulatedCall } from "../src/index.js";
import { type EmulatorHarness, rejectionOf, startEmulator } from "./support/emulator-harness.js";

let emu: EmulatorHarness;
const clock = createManualClock(Date.UTC(2030, 0, 1));
/** While set, calls carrying this key wait at `beforeExecute` until `release` is called. */
let hold: { key: string; reached: () => void; released: Promise<void> } | undefined;

beforeAll(async () => {
  emu = await startEmulator(
    {},
    {
      clock,
      beforeExecute: async (call: EmulatedCall) => {
        if (hold !== undefined && call.idempotencyKey === hold.key) {
          hold.reached();
          await hold.released;
        }
      },
    },
  );
});

afterAll(async () => {
  await emu?.stop();
});

const orderIntent = (order: string, amount = 1500) =>
  ({
    amount,
    currency: "eur",
    payment_method: "pm_card_visa",
    confirm: true,
    metadata: { order_id: order },
  }) satisfies Stripe.PaymentIntentCreateParams;

describe("idempotency keys", () => {
  it("replays the first answer for the same key and parameters, without executing again", async () => {
    const first = await emu.stripe.paymentIntents.create(orderIntent("o-1"), { idempotencyKey: "order-o-1-payment" });
    const before = await emu.stats();
    const again = await emu.stripe.paymentIntents.create(orderIntent("o-1"), { idempotencyKey: "order-o-1-payment" });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(again.lastResponse.headers["original-request"]).toBe(first.lastResponse.requestId);
    const after = await emu.stats();
    expect(after.payment_intents.created).toBe(before.payment_intents.created);
    expect(after.charges).toEqual(before.charges);
    expect(after.idempotency.replays).toBe(before.idempotency.replays + 1);
  });

  it("refuses the same key with other parameters or on another endpoint (StripeIdempotencyError)", async () => {
    await emu.stripe.paymentIntents.create(orderIntent("o-2"), { idempotencyKey: "order-o-2-payment" });
    const other = await rejectionOf(
      emu.stripe.paymentIntents.create(orderIntent("o-2", 1600), { idempotencyKey: "order-o-2-payment" }),
    );
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(other).toMatchObject({ statusCode: 400, rawType: "idempotency_error" });
    const created = await emu.stripe.paymentIntents.create({ amount: 900, currency: "eur" });
    const elsewhere = await rejectionOf(
      emu.stripe.paymentIntents.cancel(created.id, {}, { idempotencyKey: "order-o-2-payment" }),
    );
    expect(elsewhere).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((await emu.stripe.paymentIntents.retrieve(created.id)).status).toBe("requires_payment_method");
  });

  it("replays a declined payment as the same card error, with no second attempt", async () => {
    const declined = { ...orderIntent("o-3"), payment_method: "pm_card_chargeDeclined" };
    const first = await rejectionOf(emu.stripe.paymentIntents.create(declined, { idempotencyKey: "order-o-3" }));
    const before = await emu.stats();
    const again = await rejectionOf(emu.stripe.paymentIntents.create(declined, { idempotencyKey: "order-o-3" }));
    expect(again).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((again.payment_intent as Stripe.PaymentIntent).id).toBe((first.payment_intent as Stripe.PaymentIntent).id);
    expect(again.charge).toBe(first.charge);
    expect((await emu.stats()).charges.failed).toBe(before.charges.failed);
  });

  it("keeps nothing for a request refused while its parameters were read, so a corrected retry runs", async () => {
    const refused = await rejectionOf(
      emu.stripe.paymentIntents.create({ currency: "eur" } as never, { idempotencyKey: "order-o-4" }),
    );
    expect(refused).toMatchObject({ code: "parameter_missing" });
    const corrected = await emu.stripe.paymentIntents.create(orderIntent("o-4"), { idempotencyKey: "order-o-4" });
    expect(corrected.status).toBe("succeeded");
  });

  it("never runs two requests with one key at once: the second gets 409, and the SDK's retry gets the replay", async () => {
    let reached = () => {};
    let release = () => {};
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    hold = { key: "order-o-5", reached, released: new Promise<void>((resolve) => (release = resolve)) };
    const before = await emu.stats();
    const first = emu.stripe.paymentIntents.create(orderIntent("o-5"), { idempotencyKey: "order-o-5" });
    try {
      await arrived;
      const conflict = await rejectionOf(
        emu.stripe.paymentIntents.create(orderIntent("o-5"), { idempotencyKey: "order-o-5" }),
      );
      expect(conflict).toMatchObject({ statusCode: 409, code: "idempotency_key_in_use" });

      // With the SDK's default retries, a concurrent duplicate waits out the first and receives its answer.
      const retrying = emu
        .client({ maxNetworkRetries: 2 })
        .paymentIntents.create(orderIntent("o-5"), { idempotencyKey: "order-o-5" });
      setTimeout(release, 100);
      const [original, duplicate] = await Promise.all([first, retrying]);
      expect(duplicate.id).toBe(original.id);
    } finally {
      release();
      hold = undefined;
    }
    const after = await emu.stats();
    expect(after.payment_intents.created).toBe(before.payment_intents.created + 1);
    expect(after.charges.captured).toBe(before.charges.captured + 1);
  });

  it("forgets a key after 24 hours", async () => {
    const first = await emu.stripe.paymentIntents.create(orderIntent("o-6"), { idempotencyKey: "order-o-6" });
    clock.advance(24 * 3_600_000 - 1);
    const replayed = await emu.stripe.paymentIntents.create(orderIntent("o-6"), { idempotencyKey: "order-o-6" });
    expect(replayed.id).toBe(first.id);
    clock.advance(1);
    const fresh = await emu.stripe.paymentIntents.create(orderIntent("o-6", 1700), { idempotencyKey: "order-o-6" });
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.amount).toBe(1700);
  });
});
