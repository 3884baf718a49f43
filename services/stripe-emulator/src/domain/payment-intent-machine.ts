import { checkChargeAmount } from "./amount-rules.js";
import { type StripeApiError, stripeErrors } from "./stripe-error.js";
import type {
  CancellationReason,
  CaptureMethod,
  ChargeObject,
  Metadata,
  PaymentError,
  PaymentIntentObject,
  PaymentIntentStatus,
  PaymentMethodObject,
} from "./stripe-objects.js";
import type { TestPaymentMethod } from "./test-payment-methods.js";

/** What the rules need from outside: the time (unix seconds), fresh ids and secrets. Passed in so the rules stay pure. */
export interface RuleContext {
  now: number;
  /** `<prefix>_<random>`, e.g. `pi_3Pq…`. */
  newId(prefix: string): string;
  /** A random string for secrets (client secrets). */
  newToken(): string;
}

/** An event the change caused, about the intent or its charge; the caller snapshots the object when it emits it. */
export interface RaisedEvent {
  type: string;
  about: "payment_intent" | "charge";
}

/** The result of an action on an intent: its new state, a new or changed charge, the events, and a card error. */
export interface IntentChange {
  intent: PaymentIntentObject;
  charge?: ChargeObject;
  events: RaisedEvent[];
  /** A failed payment attempt: answered as a 402 after the new state is kept. */
  cardError?: StripeApiError;
}

export type IntentAction = "confirm" | "cancel" | "capture" | "authenticate" | "change amount or payment method";

const allowedFrom: Record<IntentAction, PaymentIntentStatus[]> = {
  confirm: ["requires_payment_method", "requires_confirmation", "requires_action"],
  cancel: ["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture", "processing"],
  capture: ["requires_capture"],
  authenticate: ["requires_action"],
  "change amount or payment method": ["requires_payment_method", "requires_confirmation"],
};

/** Refuses an action the intent's status does not allow, as Stripe does (`payment_intent_unexpected_state`). */
export function assertActionAllowed(intent: PaymentIntentObject, action: IntentAction): void {
  const allowed = allowedFrom[action];
  if (allowed.includes(intent.status)) return;
  throw stripeErrors.unexpectedState(
    `You cannot ${action} PaymentIntent ${intent.id}: its status is ${intent.status}, and only a PaymentIntent ` +
      `with status ${allowed.join(", ")} allows it.`,
    undefined,
    { payment_intent: intent },
  );
}

/** The parameters of a new intent, already read and checked. */
export interface NewIntentParams {
  amount: number;
  currency: string;
  captureMethod: CaptureMethod;
  paymentMethod: TestPaymentMethod | undefined;
  metadata: Metadata;
  description: string | null;
  receiptEmail: string | null;
  statementDescriptor: string | null;
  statementDescriptorSuffix: string | null;
}

/** A new intent: waiting for a payment method, or for confirmation when it was given one. */
export function newPaymentIntent(params: NewIntentParams, ctx: RuleContext): PaymentIntentObject {
  const id = ctx.newId("pi");
  return {
    id,
    object: "payment_intent",
    amount: checkChargeAmount(params.amount, params.currency),
    amount_capturable: 0,
    amount_received: 0,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: params.captureMethod,
    client_secret: `${id}_secret_${ctx.newToken()}`,
    confirmation_method: "automatic",
    created: ctx.now,
    currency: params.currency,
    customer: null,
    description: params.description,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: params.metadata,
    next_action: null,
    payment_method: params.paymentMethod?.id ?? null,
    payment_method_types: ["card"],
    processing: null,
    receipt_email: params.receiptEmail,
    setup_future_usage: null,
    shipping: null,
    statement_descriptor: params.statementDescriptor,
    statement_descriptor_suffix: params.statementDescriptorSuffix,
    status: params.paymentMethod === undefined ? "requires_payment_method" : "requires_confirmation",
  };
}

/** The `payment_method` object errors carry, for a test payment method. */
export function paymentMethodObject(method: TestPaymentMethod, now: number): PaymentMethodObject {
  return {
    id: method.id,
    object: "payment_method",
    type: "card",
    card: method.card,
    created: now,
    customer: null,
    livemode: false,
    metadata: {},
  };
}

/** How a confirmation goes on when the card asks for 3-D Secure. */
export interface ConfirmOptions {
  method: TestPaymentMethod;
  returnUrl: string | null;
  /** Off-session payments and `error_on_requires_action` fail instead of waiting for the customer. */
  failOnAuthentication: boolean;
  /** The emulator's page where the customer completes 3-D Secure for this attempt. */
  challengeUrl: () => string;
}

/** Confirms the intent with a test card: charged, declined, or waiting for 3-D Secure. */
export function confirmIntent(intent: PaymentIntentObject, options: ConfirmOptions, ctx: RuleContext): IntentChange {
  assertActionAllowed(intent, "confirm");
  const attempt: PaymentIntentObject = {
    ...intent,
    payment_method: options.method.id,
    last_payment_error: null,
    next_action: null,
  };
  const behaviour = options.method.behaviour;
  if (behaviour.kind === "approve") return chargeCard(attempt, options.method, ctx);
  if (behaviour.kind === "decline") {
    return declineCard(attempt, options.method, behaviour.code, behaviour.declineCode, behaviour.message, ctx);
  }
  if (options.failOnAuthentication) {
    return declineCard(
      attempt,
      options.method,
      "authentication_required",
      "authentication_required",
      "The card needs 3-D Secure authentication, which this payment could not ask for.",
      ctx,
    );
  }
  return {
    intent: {
      ...attempt,
      status: "requires_action",
      next_action: {
        type: "redirect_to_url",
        redirect_to_url: { url: options.challengeUrl(), return_url: options.returnUrl },
      },
    },
    events: [{ type: "payment_intent.requires_action", about: "payment_intent" }],
  };
}

/** The customer passed 3-D Secure: the card is charged. */
export function completeAuthentication(
  intent: PaymentIntentObject,
  method: TestPaymentMethod,
  ctx: RuleContext,
): IntentChange {
  assertActionAllowed(intent, "authenticate");
  return chargeCard({ ...intent, next_action: null }, method, ctx);
}

/** The customer failed 3-D Secure: the intent needs a new payment method. */
export function failAuthentication(
  intent: PaymentIntentObject,
  method: TestPaymentMethod,
  ctx: RuleContext,
): IntentChange {
  assertActionAllowed(intent, "authenticate");
  const error: PaymentError = {
    type: "invalid_request_error",
    code: "payment_intent_authentication_failure",
    doc_url: "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
    message: "The payment method failed 3-D Secure authentication; ask the customer for another payment method.",
    payment_method: paymentMethodObject(method, ctx.now),
  };
  return {
    intent: { ...intent, status: "requires_payment_method", next_action: null, last_payment_error: error },
    events: [{ type: "payment_intent.payment_failed", about: "payment_intent" }],
  };
}

function newCharge(intent: PaymentIntentObject, method: TestPaymentMethod, ctx: RuleContext): ChargeObject {
  return {
    id: ctx.newId("ch"),
    object: "charge",
    amount: intent.amount,
    amount_captured: 0,
    amount_refunded: 0,
    balance_transaction: null,
    captured: false,
    created: ctx.now,
    currency: intent.currency,
    description: intent.description,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: { ...intent.metadata },
    outcome: {
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: intent.id,
    payment_method: method.id,
    payment_method_details: { type: "card", card: method.card },
    receipt_email: intent.receipt_email,
    refunded: false,
    status: "succeeded",
  };
}

function chargeCard(intent: PaymentIntentObject, method: TestPaymentMethod, ctx: RuleContext): IntentChange {
  const charge = newCharge(intent, method, ctx);
  if (intent.capture_method === "manual") {
    return {
      intent: { ...intent, status: "requires_capture", amount_capturable: intent.amount, latest_charge: charge.id },
      charge,
      events: [
        { type: "charge.succeeded", about: "charge" },
        { type: "payment_intent.amount_capturable_updated", about: "payment_intent" },
      ],
    };
  }
  return {
    intent: { ...intent, status: "succeeded", amount_received: intent.amount, latest_charge: charge.id },
    charge: { ...charge, captured: true, amount_captured: charge.amount },
    events: [
      { type: "charge.succeeded", about: "charge" },
      { type: "payment_intent.succeeded", about: "payment_intent" },
    ],
  };
}

function declineCard(
  intent: PaymentIntentObject,
  method: TestPaymentMethod,
  code: string,
  declineCode: string,
  message: string,
  ctx: RuleContext,
): IntentChange {
  const charge: ChargeObject = {
    ...newCharge(intent, method, ctx),
    failure_code: code,
    failure_message: message,
    outcome: {
      network_status: "declined_by_network",
      reason: declineCode,
      risk_level: "normal",
      seller_message: "The bank did not approve this payment.",
      type: "issuer_declined",
    },
    paid: false,
    status: "failed",
  };
  const paymentMethod = paymentMethodObject(method, ctx.now);
  const failed: PaymentIntentObject = {
    ...intent,
    status: "requires_payment_method",
    latest_charge: charge.id,
    last_payment_error: {
      type: "card_error",
      code,
      decline_code: declineCode,
      message,
      charge: charge.id,
      doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`,
      payment_method: paymentMethod,
    },
  };
  return {
    intent: failed,
    charge,
    events: [
      { type: "charge.failed", about: "charge" },
      { type: "payment_intent.payment_failed", about: "payment_intent" },
    ],
    cardError: stripeErrors.cardError({
      code,
      decline_code: declineCode,
      message,
      charge: charge.id,
      payment_intent: failed,
      payment_method: paymentMethod,
    }),
  };
}

/** Captures an authorized intent, all of it or `amountToCapture`; the rest of the authorization is released. */
export function captureIntent(
  intent: PaymentIntentObject,
  charge: ChargeObject,
  amountToCapture: number | undefined,
): IntentChange {
  assertActionAllowed(intent, "capture");
  const amount = amountToCapture ?? intent.amount_capturable;
  if (amount < 1) throw stripeErrors.integerBelow("amount_to_capture", 1);
  if (amount > intent.amount_capturable)
    throw stripeErrors.amountTooLarge("amount_to_capture", intent.amount_capturable);
  return {
    intent: { ...intent, status: "succeeded", amount_capturable: 0, amount_received: amount },
    charge: { ...charge, captured: true, amount_captured: amount, amount_refunded: charge.amount - amount },
    events: [
      { type: "charge.captured", about: "charge" },
      { type: "payment_intent.succeeded", about: "payment_intent" },
    ],
  };
}

/** Cancels the intent; an authorization not yet captured is released (its charge shows as refunded). */
export function cancelIntent(
  intent: PaymentIntentObject,
  charge: ChargeObject | undefined,
  reason: CancellationReason | null,
  ctx: RuleContext,
): IntentChange {
  assertActionAllowed(intent, "cancel");
  const released =
    intent.status === "requires_capture" && charge !== undefined
      ? { ...charge, amount_refunded: charge.amount, refunded: true }
      : undefined;
  return {
    intent: {
      ...intent,
      status: "canceled",
      canceled_at: ctx.now,
      cancellation_reason: reason,
      amount_capturable: 0,
      next_action: null,
    },
    ...(released === undefined ? {} : { charge: released }),
    events: [{ type: "payment_intent.canceled", about: "payment_intent" }],
  };
}
