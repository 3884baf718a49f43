import { checkChargeAmount, checkCurrency } from "./domain/amount-rules.js";
import { type Clock, unixSeconds } from "./domain/clock.js";
import {
  assertActionAllowed,
  cancelIntent,
  captureIntent,
  completeAuthentication,
  confirmIntent,
  failAuthentication,
  type IntentChange,
  newPaymentIntent,
  paymentMethodObject,
  type RuleContext,
} from "./domain/payment-intent-machine.js";
import { refundCharge } from "./domain/refund-rules.js";
import { stripeErrors } from "./domain/stripe-error.js";
import type {
  CaptureMethod,
  ChargeObject,
  EventObject,
  PaymentIntentObject,
  RefundObject,
} from "./domain/stripe-objects.js";
import { findTestPaymentMethod, type TestPaymentMethod } from "./domain/test-payment-methods.js";
import { mergeMetadata, newMetadata, type ParamReader } from "./param-readers.js";
import { addAmount, type Challenge, type PaymentStore } from "./payment-store.js";
import { newStripeId, randomToken } from "./stripe-ids.js";
import type { WebhookDispatcher } from "./webhook-dispatcher.js";

/** What a route handler gets: the parameters, the ids in its path and where the call came from (for events). */
export interface ApiCall {
  params: ParamReader;
  pathIds: string[];
  requestId: string | null;
  idempotencyKey: string | null;
}

/** The kind of object a route answers with, which decides what `expand` may name. */
type Answer = "payment_intent" | "charge" | "refund" | "other";

interface ApiRoute {
  method: "GET" | "POST" | "DELETE";
  pattern: RegExp;
  answers: Answer;
  handle(call: ApiCall): object;
}

/** How the challenge page's "Complete" or "Fail" ended. */
export type AuthenticationResult =
  | { kind: "missing" }
  | { kind: "stale"; intent: PaymentIntentObject | undefined }
  | { kind: "done"; intent: PaymentIntentObject; outcome: "complete" | "fail" };

/** The Stripe API subset: route lookup, and the 3-D Secure results the challenge page reports. */
export interface StripeApi {
  /** The handler for `method path` with `expand` applied to its answer, or undefined for a URL Stripe would 404. */
  match(method: string, path: string): ((call: ApiCall) => object) | undefined;
  /** The challenge and its intent, for the page. */
  challenge(id: string): { challenge: Challenge; intent: PaymentIntentObject | undefined } | undefined;
  authenticate(challengeId: string, outcome: "complete" | "fail"): AuthenticationResult;
}

export interface StripeApiOptions {
  store: PaymentStore;
  dispatcher: WebhookDispatcher;
  clock: Clock;
  /** `api_version` of the events. */
  apiVersion: string;
  /** The absolute URL of a challenge page, for `next_action.redirect_to_url.url`. */
  challengeUrl(challengeId: string): string;
}

const expandable: Record<Answer, string[]> = {
  payment_intent: ["latest_charge", "payment_method"],
  charge: ["payment_intent"],
  refund: ["charge", "payment_intent"],
  other: [],
};

/** Ignored on the intent calls: Stripe options with no effect on test cards. */
const inertIntentParams = [
  "automatic_payment_methods",
  "payment_method_options",
  "shipping",
  "setup_future_usage",
  "use_stripe_sdk",
  "mandate_data",
  "transfer_group",
];

/** Builds the Stripe routes over one store; every change emits its events through the dispatcher. */
export function createStripeApi(options: StripeApiOptions): StripeApi {
  const { store, dispatcher, clock } = options;
  const counters = store.counters;
  const ctx = (): RuleContext => ({ now: unixSeconds(clock), newId: newStripeId, newToken: () => randomToken(25) });

  function emit(
    type: string,
    object: EventObject["data"]["object"],
    call: Pick<ApiCall, "requestId" | "idempotencyKey">,
  ) {
    const event: EventObject = {
      id: newStripeId("evt"),
      object: "event",
      api_version: options.apiVersion,
      created: unixSeconds(clock),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 0,
      request: { id: call.requestId, idempotency_key: call.idempotencyKey },
      type,
    };
    store.events.set(event.id, event);
    dispatcher.publish(event);
  }

  /** Keeps the new state, counts what happened and emits the change's events, in order. */
  function commit(change: IntentChange, call: Pick<ApiCall, "requestId" | "idempotencyKey">): PaymentIntentObject {
    const { intent, charge } = change;
    store.intents.set(intent.id, intent);
    if (charge !== undefined) store.charges.set(charge.id, charge);
    for (const raised of change.events) {
      if (raised.type === "charge.succeeded") counters.chargesSucceeded++;
      if (raised.type === "charge.failed") counters.chargesFailed++;
      if (raised.type === "payment_intent.succeeded") {
        counters.captures++;
        addAmount(counters.amountCaptured, intent.currency, intent.amount_received);
      }
      if (raised.type === "payment_intent.canceled") counters.cancellations++;
      if (raised.about === "charge" && charge === undefined) throw new Error(`${raised.type} raised without a charge`);
      emit(raised.type, raised.about === "charge" ? (charge as ChargeObject) : intent, call);
    }
    return intent;
  }

  function intentById(id: string): PaymentIntentObject {
    const intent = store.intents.get(id);
    if (intent === undefined) throw stripeErrors.notFound("PaymentIntent", id);
    return intent;
  }

  function latestCharge(intent: PaymentIntentObject): ChargeObject | undefined {
    return typeof intent.latest_charge === "string" ? store.charges.get(intent.latest_charge) : undefined;
  }

  function readPaymentMethod(params: ParamReader): TestPaymentMethod | undefined {
    const id = params.string("payment_method");
    if (id === undefined) return undefined;
    const method = findTestPaymentMethod(id);
    if (method === undefined) throw stripeErrors.missingReference("PaymentMethod", id, "payment_method");
    return method;
  }

  function readReturnUrl(params: ParamReader): string | null {
    const raw = params.string("return_url", { maxLength: 2048 });
    if (raw === undefined) return null;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw stripeErrors.invalidUrl("return_url", raw);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw stripeErrors.invalidUrl("return_url", raw);
    return raw;
  }

  function readEmail(params: ParamReader, name: string): string | undefined {
    const raw = params.string(name, { maxLength: 800 });
    if (raw !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw)) throw stripeErrors.invalidEmail(name, raw);
    return raw;
  }

  /** `off_session` is true, false, `one_off` or `recurring`; anything but false means the customer is away. */
  function readOffSession(params: ParamReader): boolean {
    const raw = params.oneOf("off_session", ["true", "false", "one_off", "recurring"] as const);
    return raw !== undefined && raw !== "false";
  }

  function readCaptureMethod(params: ParamReader): CaptureMethod | undefined {
    return params.oneOf("capture_method", ["automatic", "automatic_async", "manual"] as const);
  }

  function readStatementDescriptors(params: ParamReader) {
    return {
      statementDescriptor: params.string("statement_descriptor", { maxLength: 22 }) ?? null,
      statementDescriptorSuffix: params.string("statement_descriptor_suffix", { maxLength: 22 }) ?? null,
    };
  }

  function confirmAndCommit(
    intent: PaymentIntentObject,
    attempt: { method: TestPaymentMethod; returnUrl: string | null; failOnAuthentication: boolean },
    call: ApiCall,
  ): PaymentIntentObject {
    counters.confirmations++;
    const change = confirmIntent(
      intent,
      {
        ...attempt,
        challengeUrl: () => {
          const challenge: Challenge = {
            id: `3ds_${randomToken(24)}`,
            intentId: intent.id,
            paymentMethodId: attempt.method.id,
            returnUrl: attempt.returnUrl,
            outcome: undefined,
          };
          store.challenges.set(challenge.id, challenge);
          return options.challengeUrl(challenge.id);
        },
      },
      ctx(),
    );
    const confirmed = commit(change, call);
    // A declined card is a 402, after the failed attempt and its events are kept, as Stripe answers.
    if (change.cardError !== undefined) throw change.cardError;
    return confirmed;
  }

  function createIntent(call: ApiCall): PaymentIntentObject {
    const { params } = call;
    const amount = params.integer("amount", { required: true }) as number;
    const currency = checkCurrency(params.string("currency", { required: true }) as string);
    const captureMethod = readCaptureMethod(params) ?? "automatic";
    const confirmationMethod = params.oneOf("confirmation_method", ["automatic", "manual"] as const) ?? "automatic";
    const method = readPaymentMethod(params);
    const confirm = params.boolean("confirm") ?? false;
    const returnUrl = readReturnUrl(params);
    const offSession = readOffSession(params);
    const errorOnRequiresAction = params.boolean("error_on_requires_action") ?? false;
    const metadata = newMetadata(params.metadata());
    const description = params.string("description", { maxLength: 1000 }) ?? null;
    const receiptEmail = readEmail(params, "receipt_email") ?? null;
    const descriptors = readStatementDescriptors(params);
    const types = params.stringList("payment_method_types");
    if (types !== undefined && (types.length !== 1 || types[0] !== "card")) {
      throw stripeErrors.invalidValue("payment_method_types", "The emulator takes only card payments: pass [card].");
    }
    params.ignore(...inertIntentParams);
    params.finish();
    if (!confirm && returnUrl !== null) {
      throw stripeErrors.invalidValue("return_url", "return_url is only taken together with confirm=true.");
    }
    if (confirm && method === undefined) throw stripeErrors.parameterMissing("payment_method");

    const created = newPaymentIntent(
      {
        amount,
        currency,
        captureMethod,
        paymentMethod: method,
        metadata,
        description,
        receiptEmail,
        ...descriptors,
      },
      ctx(),
    );
    const intent = commit(
      {
        intent: { ...created, confirmation_method: confirmationMethod },
        events: [{ type: "payment_intent.created", about: "payment_intent" }],
      },
      call,
    );
    counters.intentsCreated++;
    if (!confirm || method === undefined) return intent;
    return confirmAndCommit(
      intent,
      { method, returnUrl, failOnAuthentication: offSession || errorOnRequiresAction },
      call,
    );
  }

  function updateIntent(call: ApiCall): PaymentIntentObject {
    const { params } = call;
    const intent = intentById(call.pathIds[0] as string);
    const amount = params.integer("amount");
    const method = readPaymentMethod(params);
    const captureMethod = readCaptureMethod(params);
    const metadata = params.metadata();
    const description = params.string("description", { maxLength: 1000 });
    const receiptEmail = readEmail(params, "receipt_email");
    const descriptors = readStatementDescriptors(params);
    params.ignore(...inertIntentParams);
    params.finish();
    if (amount !== undefined || method !== undefined || captureMethod !== undefined) {
      assertActionAllowed(intent, "change amount or payment method");
    }
    if (intent.status === "canceled") {
      throw stripeErrors.unexpectedState(`PaymentIntent ${intent.id} is canceled and can no longer change.`);
    }
    const updated: PaymentIntentObject = {
      ...intent,
      amount: amount === undefined ? intent.amount : checkChargeAmount(amount, intent.currency),
      capture_method: captureMethod ?? intent.capture_method,
      metadata: mergeMetadata(intent.metadata, metadata),
      description: description ?? intent.description,
      receipt_email: receiptEmail ?? intent.receipt_email,
      statement_descriptor: descriptors.statementDescriptor ?? intent.statement_descriptor,
      statement_descriptor_suffix: descriptors.statementDescriptorSuffix ?? intent.statement_descriptor_suffix,
    };
    if (method !== undefined) {
      updated.payment_method = method.id;
      updated.status = "requires_confirmation";
    }
    return commit({ intent: updated, events: [] }, call);
  }

  function confirm(call: ApiCall): PaymentIntentObject {
    const { params } = call;
    const intent = intentById(call.pathIds[0] as string);
    const given = readPaymentMethod(params);
    const returnUrl = readReturnUrl(params);
    const offSession = readOffSession(params);
    const errorOnRequiresAction = params.boolean("error_on_requires_action") ?? false;
    const receiptEmail = readEmail(params, "receipt_email");
    const captureMethod = readCaptureMethod(params);
    params.ignore(...inertIntentParams, "client_secret", "payment_method_types");
    params.finish();
    assertActionAllowed(intent, "confirm");
    const method = given ?? (intent.payment_method === null ? undefined : findTestPaymentMethod(intent.payment_method));
    if (method === undefined) throw stripeErrors.parameterMissing("payment_method");
    return confirmAndCommit(
      {
        ...intent,
        receipt_email: receiptEmail ?? intent.receipt_email,
        capture_method: captureMethod ?? intent.capture_method,
      },
      { method, returnUrl, failOnAuthentication: offSession || errorOnRequiresAction },
      call,
    );
  }

  function capture(call: ApiCall): PaymentIntentObject {
    const { params } = call;
    const intent = intentById(call.pathIds[0] as string);
    const amountToCapture = params.integer("amount_to_capture");
    const metadata = params.metadata();
    params.ignore("statement_descriptor", "statement_descriptor_suffix", "final_capture");
    params.finish();
    assertActionAllowed(intent, "capture");
    const charge = latestCharge(intent);
    if (charge === undefined) throw new Error(`PaymentIntent ${intent.id} requires capture but has no charge`);
    const change = captureIntent(
      { ...intent, metadata: mergeMetadata(intent.metadata, metadata) },
      charge,
      amountToCapture,
    );
    return commit(change, call);
  }

  function cancel(call: ApiCall): PaymentIntentObject {
    const { params } = call;
    const intent = intentById(call.pathIds[0] as string);
    const reason =
      params.oneOf("cancellation_reason", ["abandoned", "duplicate", "fraudulent", "requested_by_customer"] as const) ??
      null;
    params.finish();
    return commit(cancelIntent(intent, latestCharge(intent), reason, ctx()), call);
  }

  function createRefund(call: ApiCall): RefundObject {
    const { params } = call;
    const intentId = params.string("payment_intent");
    const chargeId = params.string("charge");
    const amount = params.integer("amount");
    const reason = params.oneOf("reason", ["duplicate", "fraudulent", "requested_by_customer"] as const) ?? null;
    const metadata = newMetadata(params.metadata());
    params.ignore("instructions_email", "refund_application_fee", "reverse_transfer");
    params.finish();
    if (intentId === undefined && chargeId === undefined) throw stripeErrors.parameterMissing("payment_intent");
    let intent: PaymentIntentObject | undefined;
    let charge: ChargeObject | undefined;
    if (chargeId !== undefined) {
      charge = store.charges.get(chargeId);
      if (charge === undefined) throw stripeErrors.missingReference("charge", chargeId, "charge");
      intent = store.intents.get(charge.payment_intent as string);
    }
    if (intentId !== undefined) {
      const named = store.intents.get(intentId);
      if (named === undefined) throw stripeErrors.missingReference("PaymentIntent", intentId, "payment_intent");
      if (intent !== undefined && intent.id !== named.id) {
        throw stripeErrors.invalidValue("charge", `Charge ${chargeId} does not belong to PaymentIntent ${intentId}.`);
      }
      intent = named;
      charge ??= latestCharge(named);
    }
    const { refund, charge: refundedCharge } = refundCharge(
      intent as PaymentIntentObject,
      charge,
      { amount, reason, metadata },
      ctx(),
    );
    store.refunds.set(refund.id, refund);
    store.charges.set(refundedCharge.id, refundedCharge);
    counters.refunds++;
    addAmount(counters.amountRefunded, refund.currency, refund.amount);
    emit("charge.refunded", refundedCharge, call);
    emit("refund.created", refund, call);
    return refund;
  }

  function retrieve<T>(map: Map<string, T>, kind: string) {
    return (call: ApiCall): T => {
      call.params.ignore("client_secret");
      call.params.finish();
      const found = map.get(call.pathIds[0] as string);
      if (found === undefined) throw stripeErrors.notFound(kind, call.pathIds[0] as string);
      return found;
    };
  }

  function createWebhookEndpoint(call: ApiCall): object {
    const { params } = call;
    const url = params.string("url", { required: true, maxLength: 2048 }) as string;
    const events = params.stringList("enabled_events");
    const description = params.string("description") ?? null;
    const metadata = newMetadata(params.metadata());
    params.ignore("api_version", "connect");
    params.finish();
    if (!/^https?:\/\/[^\s]+$/.test(url) || !URL.canParse(url)) throw stripeErrors.invalidUrl("url", url);
    if (events === undefined || events.length === 0) throw stripeErrors.parameterMissing("enabled_events");
    for (const type of events) {
      if (type !== "*" && !/^[a-z_]+(\.[a-z_]+)+$/.test(type)) {
        throw stripeErrors.invalidValue("enabled_events", `"${type}" is not an event type.`);
      }
    }
    return dispatcher.createEndpoint({ url, enabledEvents: events }, { description, metadata });
  }

  function webhookEndpointById(call: ApiCall) {
    call.params.finish();
    const endpoint = dispatcher.endpoint(call.pathIds[0] as string);
    if (endpoint === undefined) throw stripeErrors.notFound("webhook endpoint", call.pathIds[0] as string);
    return endpoint;
  }

  const id = "([A-Za-z0-9_]+)";
  const routes: ApiRoute[] = [
    { method: "POST", pattern: /^\/v1\/payment_intents$/, answers: "payment_intent", handle: createIntent },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/payment_intents/${id}$`),
      answers: "payment_intent",
      handle: retrieve(store.intents, "PaymentIntent"),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/v1/payment_intents/${id}$`),
      answers: "payment_intent",
      handle: updateIntent,
    },
    {
      method: "POST",
      pattern: new RegExp(`^/v1/payment_intents/${id}/confirm$`),
      answers: "payment_intent",
      handle: confirm,
    },
    {
      method: "POST",
      pattern: new RegExp(`^/v1/payment_intents/${id}/capture$`),
      answers: "payment_intent",
      handle: capture,
    },
    {
      method: "POST",
      pattern: new RegExp(`^/v1/payment_intents/${id}/cancel$`),
      answers: "payment_intent",
      handle: cancel,
    },
    { method: "POST", pattern: /^\/v1\/refunds$/, answers: "refund", handle: createRefund },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/refunds/${id}$`),
      answers: "refund",
      handle: retrieve(store.refunds, "refund"),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/charges/${id}$`),
      answers: "charge",
      handle: retrieve(store.charges, "charge"),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/events/${id}$`),
      answers: "other",
      handle: retrieve(store.events, "event"),
    },
    { method: "POST", pattern: /^\/v1\/webhook_endpoints$/, answers: "other", handle: createWebhookEndpoint },
    {
      method: "GET",
      pattern: /^\/v1\/webhook_endpoints$/,
      answers: "other",
      handle: (call) => {
        call.params.ignore("limit", "starting_after", "ending_before");
        call.params.finish();
        const data = dispatcher.endpoints();
        return { object: "list", data, has_more: false, url: "/v1/webhook_endpoints" };
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/webhook_endpoints/${id}$`),
      answers: "other",
      handle: webhookEndpointById,
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/v1/webhook_endpoints/${id}$`),
      answers: "other",
      handle: (call) => {
        const endpoint = webhookEndpointById(call);
        dispatcher.removeEndpoint(endpoint.id);
        return { id: endpoint.id, object: "webhook_endpoint", deleted: true };
      },
    },
  ];

  /** A copy of `answer` with the `expand`ed ids replaced by their objects. */
  function expand(answer: object, kind: Answer, fields: string[]): object {
    if (fields.length === 0) return answer;
    const expanded: Record<string, unknown> = { ...answer };
    for (const field of fields) {
      const value = expanded[field];
      if (typeof value !== "string") continue;
      if (field === "latest_charge" || field === "charge") expanded[field] = store.charges.get(value) ?? value;
      if (field === "payment_intent") expanded[field] = store.intents.get(value) ?? value;
      if (field === "payment_method" && kind === "payment_intent") {
        const method = findTestPaymentMethod(value);
        if (method !== undefined)
          expanded[field] = paymentMethodObject(method, (answer as PaymentIntentObject).created);
      }
    }
    return expanded;
  }

  return {
    match(method, path) {
      for (const route of routes) {
        if (route.method !== method) continue;
        const found = route.pattern.exec(path);
        if (found === null) continue;
        return (call) => {
          // Checked before the handler runs, so an impossible `expand` changes nothing.
          const fields = call.params.stringList("expand") ?? [];
          for (const field of fields) {
            if (!expandable[route.answers].includes(field)) {
              throw stripeErrors.invalidValue("expand", `"${field}" cannot be expanded on this object.`);
            }
          }
          return expand(route.handle({ ...call, pathIds: found.slice(1) }), route.answers, fields);
        };
      }
      return undefined;
    },
    challenge(challengeId) {
      const challenge = store.challenges.get(challengeId);
      if (challenge === undefined) return undefined;
      return { challenge, intent: store.intents.get(challenge.intentId) };
    },
    authenticate(challengeId, outcome) {
      const challenge = store.challenges.get(challengeId);
      if (challenge === undefined) return { kind: "missing" };
      const intent = store.intents.get(challenge.intentId);
      if (intent === undefined) return { kind: "missing" };
      // A second click on the same button answers as the first did.
      if (challenge.outcome === outcome) return { kind: "done", intent, outcome };
      const waiting =
        challenge.outcome === undefined &&
        intent.status === "requires_action" &&
        intent.next_action?.redirect_to_url.url === options.challengeUrl(challengeId);
      const method = findTestPaymentMethod(challenge.paymentMethodId);
      if (!waiting || method === undefined) return { kind: "stale", intent };
      const change =
        outcome === "complete"
          ? completeAuthentication(intent, method, ctx())
          : failAuthentication(intent, method, ctx());
      challenge.outcome = outcome;
      if (outcome === "complete") counters.authenticationsCompleted++;
      else counters.authenticationsFailed++;
      // Not an API request: its events carry no request id, as Stripe's do for customer actions.
      return { kind: "done", intent: commit(change, { requestId: null, idempotencyKey: null }), outcome };
    },
  };
}
