import type { CardDetails } from "./stripe-objects.js";

/** What charging a test payment method does. */
export type CardBehaviour =
  | { kind: "approve" }
  | { kind: "decline"; code: string; declineCode: string; message: string }
  | { kind: "authenticate" };

/** One of Stripe's test payment methods (`pm_card_…`), with the card it stands for and what charging it does. */
export interface TestPaymentMethod {
  id: string;
  card: CardDetails;
  behaviour: CardBehaviour;
}

function card(brand: string, last4: string, funding: CardDetails["funding"] = "credit"): CardDetails {
  return { brand, last4, exp_month: 12, exp_year: 2034, funding, country: "US" };
}

const declined = (code: string, declineCode: string, message: string): CardBehaviour => ({
  kind: "decline",
  code,
  declineCode,
  message,
});

const approve: CardBehaviour = { kind: "approve" };

/** The test payment methods the emulator knows; any other `pm_…` is refused as missing, as Stripe would. */
const testPaymentMethods: TestPaymentMethod[] = [
  { id: "pm_card_visa", card: card("visa", "4242"), behaviour: approve },
  { id: "pm_card_visa_debit", card: card("visa", "5556", "debit"), behaviour: approve },
  { id: "pm_card_mastercard", card: card("mastercard", "4444"), behaviour: approve },
  { id: "pm_card_amex", card: card("amex", "8431"), behaviour: approve },
  {
    id: "pm_card_chargeDeclined",
    card: card("visa", "0002"),
    behaviour: declined("card_declined", "generic_decline", "The card was declined."),
  },
  {
    id: "pm_card_chargeDeclinedInsufficientFunds",
    card: card("visa", "9995"),
    behaviour: declined("card_declined", "insufficient_funds", "The card has insufficient funds."),
  },
  {
    id: "pm_card_chargeDeclinedExpiredCard",
    card: card("visa", "0069"),
    behaviour: declined("expired_card", "expired_card", "The card has expired."),
  },
  { id: "pm_card_threeDSecure2Required", card: card("visa", "3220"), behaviour: { kind: "authenticate" } },
  { id: "pm_card_authenticationRequired", card: card("visa", "3184"), behaviour: { kind: "authenticate" } },
];

const byId = new Map(testPaymentMethods.map((method) => [method.id, method]));

/** The test payment method of that id, or undefined. */
export function findTestPaymentMethod(id: string): TestPaymentMethod | undefined {
  return byId.get(id);
}
