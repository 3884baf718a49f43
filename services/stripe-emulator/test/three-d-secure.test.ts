import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatorHarness, rejectionOf, startEmulator } from "./support/emulator-harness.js";

let emu: EmulatorHarness;

beforeAll(async () => {
  emu = await startEmulator();
});

afterAll(async () => {
  await emu?.stop();
});

const challengeUrl = (intent: Stripe.PaymentIntent) => intent.next_action?.redirect_to_url?.url as string;

/** What the page's buttons send: one form field, `outcome`. */
const choose = (url: string, outcome: "complete" | "fail") =>
  fetch(url, { method: "POST", body: new URLSearchParams({ outcome }), redirect: "manual" });

const threeDSecure = (extra: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  emu.stripe.paymentIntents.create({
    amount: 4200,
    currency: "eur",
    payment_method: "pm_card_threeDSecure2Required",
    confirm: true,
    ...extra,
  });

describe("3-D Secure", () => {
  it("asks for action with a redirect to the emulator's challenge page, which a browser can use", async () => {
    const intent = await threeDSecure({ return_url: "http://shop.test/checkout/return" });
    expect(intent.status).toBe("requires_action");
    expect(intent.next_action).toEqual({
      type: "redirect_to_url",
      redirect_to_url: {
        url: expect.stringMatching(`^${emu.url}/3d_secure/`),
        return_url: "http://shop.test/checkout/return",
      },
    });
    expect(intent.latest_charge).toBeNull();
    const page = await fetch(challengeUrl(intent));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain("Complete authentication");
    expect(html).toContain("Fail authentication");
    expect(html).toContain('name="outcome"');
    expect(html).toContain("€42.00");
  });

  it("completes: the intent succeeds and the customer is sent to return_url with Stripe's query parameters", async () => {
    const intent = await threeDSecure({ return_url: "http://shop.test/checkout/return?order=o-3ds" });
    const answer = await choose(challengeUrl(intent), "complete");
    expect(answer.status).toBe(303);
    const location = new URL(answer.headers.get("location") as string);
    expect(location.origin + location.pathname).toBe("http://shop.test/checkout/return");
    expect(Object.fromEntries(location.searchParams)).toEqual({
      order: "o-3ds",
      payment_intent: intent.id,
      payment_intent_client_secret: intent.client_secret,
      redirect_status: "succeeded",
    });
    const paid = await emu.stripe.paymentIntents.retrieve(intent.id);
    expect(paid).toMatchObject({ status: "succeeded", amount_received: 4200, next_action: null });
    expect((await emu.stripe.charges.retrieve(paid.latest_charge as string)).captured).toBe(true);

    // A second click answers the same and charges nothing more.
    const before = await emu.stats();
    expect((await choose(challengeUrl(intent), "complete")).status).toBe(303);
    expect((await emu.stats()).charges).toEqual(before.charges);
  });

  it("completes into requires_capture for manual capture, and shows a result page without return_url", async () => {
    const intent = await threeDSecure({ capture_method: "manual" });
    const answer = await choose(challengeUrl(intent), "complete");
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain("requires_capture");
    expect((await emu.stripe.paymentIntents.retrieve(intent.id)).status).toBe("requires_capture");
  });

  it("sends the customer back to a return_url given on the page's address when the confirmation had none", async () => {
    const intent = await threeDSecure();
    const back = "http://shop.test/#/order/ord_1";
    const url = `${challengeUrl(intent)}?return_url=${encodeURIComponent(back)}`;
    expect((await fetch(url)).status).toBe(200);
    const answer = await choose(url, "complete");
    expect(answer.status).toBe(303);
    const location = new URL(answer.headers.get("location") as string);
    expect(location.origin + location.pathname + location.hash).toBe(back);
    expect(location.searchParams.get("redirect_status")).toBe("succeeded");
    expect((await emu.stripe.paymentIntents.retrieve(intent.id)).status).toBe("succeeded");
  });

  it("refuses a return_url on the page's address that is not an http(s) URL, and changes nothing", async () => {
    const intent = await threeDSecure();
    const url = `${challengeUrl(intent)}?return_url=${encodeURIComponent("javascript:alert(1)")}`;
    expect((await fetch(url)).status).toBe(400);
    expect((await choose(url, "complete")).status).toBe(400);
    expect((await emu.stripe.paymentIntents.retrieve(intent.id)).status).toBe("requires_action");
  });

  it("fails: the intent needs a new payment method, with payment_intent_authentication_failure", async () => {
    const intent = await threeDSecure({ return_url: "http://shop.test/checkout/return" });
    const answer = await choose(challengeUrl(intent), "fail");
    expect(answer.status).toBe(303);
    expect(new URL(answer.headers.get("location") as string).searchParams.get("redirect_status")).toBe("failed");
    const failed = await emu.stripe.paymentIntents.retrieve(intent.id);
    expect(failed.status).toBe("requires_payment_method");
    expect(failed.last_payment_error?.code).toBe("payment_intent_authentication_failure");
    expect(failed.latest_charge).toBeNull();
    // The other button no longer does anything.
    expect((await choose(challengeUrl(intent), "complete")).status).toBe(409);
    expect((await emu.stripe.paymentIntents.retrieve(intent.id)).status).toBe("requires_payment_method");
  });

  it("cannot be completed after the intent was canceled", async () => {
    const intent = await threeDSecure();
    await emu.stripe.paymentIntents.cancel(intent.id);
    expect((await choose(challengeUrl(intent), "complete")).status).toBe(409);
    expect((await emu.stripe.paymentIntents.retrieve(intent.id)).status).toBe("canceled");
  });

  it("fails at once with authentication_required when the customer is off session", async () => {
    const err = await rejectionOf(threeDSecure({ off_session: true }));
    expect(err).toMatchObject({ statusCode: 402, code: "authentication_required" });
  });

  it("answers an unknown challenge address with 404", async () => {
    expect((await fetch(`${emu.url}/3d_secure/3ds_unknown`)).status).toBe(404);
  });
});
