import type {
  ChargeObject,
  EventObject,
  PaymentIntentObject,
  PaymentIntentStatus,
  RefundObject,
} from "./domain/stripe-objects.js";

/** A 3-D Secure challenge the emulator's page serves: which intent and card it is for, and how it ended. */
export interface Challenge {
  id: string;
  intentId: string;
  paymentMethodId: string;
  /** Where the customer goes back to afterwards (the confirmation's `return_url`), if anywhere. */
  returnUrl: string | null;
  outcome: "complete" | "fail" | undefined;
}

/** What happened, counted when it executed (a replayed request counts nothing): the basis of "no double charges". */
export interface PaymentCounters {
  intentsCreated: number;
  confirmations: number;
  chargesSucceeded: number;
  chargesFailed: number;
  /** Charges whose money was taken: automatic payments when charged, manual ones when captured. */
  captures: number;
  amountCaptured: Record<string, number>;
  cancellations: number;
  refunds: number;
  amountRefunded: Record<string, number>;
  authenticationsCompleted: number;
  authenticationsFailed: number;
}

/** Everything the emulator knows, in memory: it starts empty and forgets on restart, as a test double may. */
export interface PaymentStore {
  intents: Map<string, PaymentIntentObject>;
  charges: Map<string, ChargeObject>;
  refunds: Map<string, RefundObject>;
  events: Map<string, EventObject>;
  challenges: Map<string, Challenge>;
  counters: PaymentCounters;
  statusCounts(): Record<PaymentIntentStatus, number>;
}

/** An empty store. */
export function createPaymentStore(): PaymentStore {
  const intents = new Map<string, PaymentIntentObject>();
  return {
    intents,
    charges: new Map(),
    refunds: new Map(),
    events: new Map(),
    challenges: new Map(),
    counters: {
      intentsCreated: 0,
      confirmations: 0,
      chargesSucceeded: 0,
      chargesFailed: 0,
      captures: 0,
      amountCaptured: {},
      cancellations: 0,
      refunds: 0,
      amountRefunded: {},
      authenticationsCompleted: 0,
      authenticationsFailed: 0,
    },
    statusCounts() {
      const counts: Record<PaymentIntentStatus, number> = {
        requires_payment_method: 0,
        requires_confirmation: 0,
        requires_action: 0,
        processing: 0,
        requires_capture: 0,
        succeeded: 0,
        canceled: 0,
      };
      for (const intent of intents.values()) counts[intent.status]++;
      return counts;
    },
  };
}

/** Adds `amount` to a per-currency total. */
export function addAmount(totals: Record<string, number>, currency: string, amount: number): void {
  totals[currency] = (totals[currency] ?? 0) + amount;
}
