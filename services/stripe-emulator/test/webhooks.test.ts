import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type EmulatorHarness,
  startEmulator,
  startWebhookReceiver,
  type WebhookReceiver,
} from "./support/emulator-harness.js";

const secret = "whsec_test_receiver_secret_0123456789";
let receiver: WebhookReceiver;
let emu: EmulatorHarness;
/** Only for its webhook helper; it never calls the API. */
const sdk = new Stripe("sk_test_unused_for_webhooks");

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  emu = await startEmulator({
    SHOP_STRIPE_EMULATOR_WEBHOOKS: `${secret}@${receiver.url}`,
    SHOP_STRIPE_EMULATOR_WEBHOOK_RETRY_DELAYS_MS: "30,30",
  });
});

afterAll(async () => {
  await emu?.stop();
  await receiver?.close();
});

const receivedFor = (intentId: string, type: string) =>
  receiver.received.filter(
    (request) =>
      request.eventType === type &&
      (JSON.parse(request.rawBody) as { data: { object: { id: string } } }).data.object.id === intentId,
  );

const waitForEvent = (intentId: string, type: string, count = 1) =>
  vi.waitFor(
    () => {
      const found = receivedFor(intentId, type);
      expect(found.length).toBeGreaterThanOrEqual(count);
      return found;
    },
    { timeout: 5_000, interval: 20 },
  );

/** Runs `body` with a receiver of its own, registered through the API for `events` and removed afterwards. */
async function withReceiver(
  events: Stripe.WebhookEndpointCreateParams.EnabledEvent[],
  body: (own: WebhookReceiver, endpointSecret: string) => Promise<void>,
): Promise<void> {
  const own = await startWebhookReceiver();
  const endpoint = await emu.stripe.webhookEndpoints.create({ url: own.url, enabled_events: events });
  try {
    await body(own, endpoint.secret as string);
  } finally {
    await emu.stripe.webhookEndpoints.del(endpoint.id);
    await own.close();
  }
}

describe("webhooks", () => {
  it("posts a signed event that the SDK's constructEvent verifies, and refuses a tampered body", async () => {
    const intent = await emu.stripe.paymentIntents.create(
      { amount: 2500, currency: "eur", payment_method: "pm_card_visa", confirm: true, metadata: { order_id: "o-w1" } },
      { idempotencyKey: "order-o-w1" },
    );
    const [delivered] = await waitForEvent(intent.id, "payment_intent.succeeded");
    if (delivered === undefined) throw new Error("no delivery");
    expect(delivered.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const event = sdk.webhooks.constructEvent(delivered.rawBody, delivered.signature as string, secret);
    expect(event).toMatchObject({
      object: "event",
      type: "payment_intent.succeeded",
      livemode: false,
      api_version: expect.any(String),
      request: { id: intent.lastResponse.requestId, idempotency_key: "order-o-w1" },
      data: {
        object: { id: intent.id, object: "payment_intent", status: "succeeded", metadata: { order_id: "o-w1" } },
      },
    });
    expect(event.id).toMatch(/^evt_/);
    expect((await emu.stripe.events.retrieve(event.id)).type).toBe("payment_intent.succeeded");
    expect(event.created).toBeGreaterThan(0);

    const tampered = delivered.rawBody.replace('"amount": 2500', '"amount": 1');
    expect(tampered).not.toBe(delivered.rawBody);
    expect(() => sdk.webhooks.constructEvent(tampered, delivered.signature as string, secret)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => sdk.webhooks.constructEvent(delivered.rawBody, delivered.signature as string, "whsec_other")).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it("retries after the endpoint answers 500, with the same event id, until it is acknowledged", async () => {
    await withReceiver(["payment_intent.created"], async (own, endpointSecret) => {
      own.answerWith(500);
      await emu.stripe.paymentIntents.create({ amount: 1000, currency: "eur" });
      await vi.waitFor(() => expect(own.received).toHaveLength(2));
      const [failed, acknowledged] = own.received;
      expect(acknowledged?.eventId).toBe(failed?.eventId);
      const event = sdk.webhooks.constructEvent(
        acknowledged?.rawBody ?? "",
        acknowledged?.signature ?? "",
        endpointSecret,
      );
      expect(event.id).toBe(failed?.eventId);
      const [delivery] = (await emu.deliveries(`?event_id=${event.id}`)).filter((found) => found.url === own.url);
      expect(delivery).toMatchObject({ status: "succeeded", event_type: "payment_intent.created" });
      expect(delivery?.attempts.map((attempt) => attempt.status)).toEqual([500, 200]);
    });
  });

  it("gives up after the retry schedule, lists the failure, and redelivers the same event on request", async () => {
    await withReceiver(["payment_intent.created"], async (own) => {
      own.answerWith(503, 503, 503);
      await emu.stripe.paymentIntents.create({ amount: 1100, currency: "eur" });
      await vi.waitFor(() => expect(own.received).toHaveLength(3));
      const eventId = own.received[0]?.eventId;
      const failed = await vi.waitFor(async () => {
        const [delivery] = (await emu.deliveries(`?event_id=${eventId}`)).filter((found) => found.url === own.url);
        expect(delivery?.status).toBe("failed");
        return delivery;
      });
      expect(failed?.attempts.map((attempt) => attempt.status)).toEqual([503, 503, 503]);
      expect((await emu.stats()).webhooks.deliveries.failed).toBeGreaterThanOrEqual(1);

      await emu.emulator(`/_emulator/webhook_deliveries/${failed?.id}/redeliver`, "POST");
      await vi.waitFor(() => expect(own.received).toHaveLength(4));
      expect(new Set(own.received.map((request) => request.eventId))).toEqual(new Set([eventId]));
      await vi.waitFor(async () =>
        expect((await emu.deliveries(`?event_id=${eventId}&status=succeeded`)).map((found) => found.url)).toContain(
          own.url,
        ),
      );
    });
  });

  it("retries when the endpoint cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const endpoint = await emu.stripe.webhookEndpoints.create({
      url: `http://127.0.0.1:${port}/gone`,
      enabled_events: ["payment_intent.canceled"],
    });
    const intent = await emu.stripe.paymentIntents.create({ amount: 1200, currency: "eur" });
    await emu.stripe.paymentIntents.cancel(intent.id);
    const delivery = await vi.waitFor(async () => {
      const [found] = (await emu.deliveries("?event_type=payment_intent.canceled&status=failed")).filter(
        (candidate) => candidate.endpoint_id === endpoint.id,
      );
      expect(found).toBeDefined();
      return found;
    });
    expect(delivery?.attempts).toHaveLength(3);
    expect(delivery?.attempts.every((attempt) => attempt.status === null && attempt.error !== null)).toBe(true);
    await emu.stripe.webhookEndpoints.del(endpoint.id);
  });

  it("registers endpoints through the API with a generated secret, and sends only the events they want", async () => {
    const own = await startWebhookReceiver();
    try {
      const endpoint = await emu.stripe.webhookEndpoints.create({
        url: own.url,
        enabled_events: ["charge.refunded", "refund.created"],
      });
      expect(endpoint.secret).toMatch(/^whsec_/);
      expect((await emu.stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();

      const intent = await emu.stripe.paymentIntents.create({
        amount: 3000,
        currency: "eur",
        payment_method: "pm_card_visa",
        confirm: true,
      });
      const refund = await emu.stripe.refunds.create({ payment_intent: intent.id, amount: 500 });
      await vi.waitFor(() => expect(own.received).toHaveLength(2));
      const events = own.received.map((request) =>
        sdk.webhooks.constructEvent(request.rawBody, request.signature as string, endpoint.secret as string),
      );
      expect(events.map((event) => event.type).sort()).toEqual(["charge.refunded", "refund.created"]);
      const refunded = events.find((event) => event.type === "charge.refunded")?.data.object as Stripe.Charge;
      expect(refunded).toMatchObject({ id: intent.latest_charge, amount_refunded: 500, refunded: false });
      expect(events.find((event) => event.type === "refund.created")?.data.object).toMatchObject({ id: refund.id });

      await emu.stripe.webhookEndpoints.del(endpoint.id);
      await emu.stripe.refunds.create({ payment_intent: intent.id, amount: 500 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(own.received).toHaveLength(2);
    } finally {
      await own.close();
    }
  });

  it("sends the events of each payment flow", async () => {
    const declined = await emu.stripe.paymentIntents
      .create({ amount: 1000, currency: "eur", payment_method: "pm_card_chargeDeclined", confirm: true })
      .catch((err: Stripe.errors.StripeCardError) => err.payment_intent as Stripe.PaymentIntent);
    await waitForEvent(declined.id, "payment_intent.payment_failed");

    const manual = await emu.stripe.paymentIntents.create({
      amount: 1000,
      currency: "eur",
      payment_method: "pm_card_visa",
      capture_method: "manual",
      confirm: true,
    });
    const [capturable] = await waitForEvent(manual.id, "payment_intent.amount_capturable_updated");
    expect((JSON.parse(capturable?.rawBody ?? "{}") as Stripe.Event).data.object).toMatchObject({
      status: "requires_capture",
      amount_capturable: 1000,
    });
    await emu.stripe.paymentIntents.cancel(manual.id, { cancellation_reason: "abandoned" });
    await waitForEvent(manual.id, "payment_intent.canceled");

    const challenged = await emu.stripe.paymentIntents.create({
      amount: 1000,
      currency: "eur",
      payment_method: "pm_card_threeDSecure2Required",
      confirm: true,
    });
    await waitForEvent(challenged.id, "payment_intent.requires_action");
    await fetch(challenged.next_action?.redirect_to_url?.url as string, {
      method: "POST",
      body: new URLSearchParams({ outcome: "complete" }),
    });
    const [succeeded] = await waitForEvent(challenged.id, "payment_intent.succeeded");
    // Completed by the customer, not by an API request.
    expect((JSON.parse(succeeded?.rawBody ?? "{}") as Stripe.Event).request).toEqual({
      id: null,
      idempotency_key: null,
    });
  });
});
