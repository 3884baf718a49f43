// The objects the emulator keeps, in the JSON shape Stripe returns them (snake_case, nulls included), so storing and
// answering are the same thing. Only the fields this emulator gives meaning to are present; see the README.

/** Stripe's `metadata`: up to 50 string pairs. */
export type Metadata = Record<string, string>;

export type PaymentIntentStatus =
  | "requires_payment_method"
  | "requires_confirmation"
  | "requires_action"
  | "processing"
  | "requires_capture"
  | "succeeded"
  | "canceled";

export type CaptureMethod = "automatic" | "automatic_async" | "manual";

export type CancellationReason = "abandoned" | "duplicate" | "fraudulent" | "requested_by_customer" | "automatic";

/** `last_payment_error` of an intent: the card error of its last failed attempt. */
export interface PaymentError {
  type: "card_error" | "invalid_request_error";
  code: string;
  decline_code?: string;
  message: string;
  charge?: string;
  doc_url?: string;
  payment_method: PaymentMethodObject;
}

/** `next_action` of an intent waiting for 3-D Secure: the page the customer is sent to. */
export interface RedirectNextAction {
  type: "redirect_to_url";
  redirect_to_url: { url: string; return_url: string | null };
}

export interface PaymentIntentObject {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_capturable: number;
  amount_received: number;
  canceled_at: number | null;
  cancellation_reason: CancellationReason | null;
  capture_method: CaptureMethod;
  client_secret: string;
  confirmation_method: "automatic" | "manual";
  created: number;
  currency: string;
  customer: null;
  description: string | null;
  last_payment_error: PaymentError | null;
  latest_charge: string | ChargeObject | null;
  livemode: false;
  metadata: Metadata;
  next_action: RedirectNextAction | null;
  payment_method: string | null;
  payment_method_types: string[];
  processing: null;
  receipt_email: string | null;
  setup_future_usage: null;
  shipping: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: PaymentIntentStatus;
}

/** The card a test payment method stands for, as charges and payment methods show it. */
export interface CardDetails {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  funding: "credit" | "debit";
  country: string;
}

export interface PaymentMethodObject {
  id: string;
  object: "payment_method";
  type: "card";
  card: CardDetails;
  created: number;
  customer: null;
  livemode: false;
  metadata: Metadata;
}

export interface ChargeObject {
  id: string;
  object: "charge";
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: null;
  captured: boolean;
  created: number;
  currency: string;
  description: string | null;
  failure_code: string | null;
  failure_message: string | null;
  livemode: false;
  metadata: Metadata;
  outcome: {
    network_status: "approved_by_network" | "declined_by_network";
    reason: string | null;
    risk_level: "normal";
    seller_message: string;
    type: "authorized" | "issuer_declined";
  };
  paid: boolean;
  payment_intent: string | PaymentIntentObject;
  payment_method: string;
  payment_method_details: { type: "card"; card: CardDetails };
  receipt_email: string | null;
  refunded: boolean;
  status: "succeeded" | "failed";
}

export type RefundReason = "duplicate" | "fraudulent" | "requested_by_customer";

export interface RefundObject {
  id: string;
  object: "refund";
  amount: number;
  balance_transaction: null;
  charge: string | ChargeObject;
  created: number;
  currency: string;
  metadata: Metadata;
  payment_intent: string | PaymentIntentObject;
  reason: RefundReason | null;
  receipt_number: null;
  status: "succeeded";
}

export interface EventObject {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: PaymentIntentObject | ChargeObject | RefundObject };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface WebhookEndpointObject {
  id: string;
  object: "webhook_endpoint";
  api_version: string | null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: false;
  metadata: Metadata;
  status: "enabled";
  url: string;
  /** Returned only when the endpoint is created, as Stripe does. */
  secret?: string;
}
