import { stripeErrors } from "./stripe-error.js";

/** The largest amount Stripe takes in one payment: eight digits of minor units. */
export const maximumAmount = 99_999_999;

/**
 * Stripe's smallest charge per settlement currency, in minor units (50 cents for USD and EUR, 30 pence for GBP…).
 * Currencies not listed only need a positive amount.
 */
const minimumChargeAmounts: Record<string, number> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  aud: 50,
  brl: 50,
  cad: 50,
  chf: 50,
  czk: 1500,
  dkk: 250,
  hkd: 400,
  huf: 17500,
  inr: 50,
  jpy: 50,
  mxn: 1000,
  myr: 200,
  nok: 300,
  nzd: 50,
  pln: 200,
  ron: 200,
  sek: 300,
  sgd: 50,
  thb: 1000,
};

const knownCurrencies = new Set(Intl.supportedValuesOf("currency").map((code) => code.toLowerCase()));

/** A three-letter ISO currency, lower-cased as Stripe stores it; anything else is refused. */
export function checkCurrency(raw: string, param = "currency"): string {
  const currency = raw.toLowerCase();
  if (!/^[a-z]{3}$/.test(currency) || !knownCurrencies.has(currency)) {
    throw stripeErrors.invalidValue(param, `${param} must be a three-letter ISO currency code, got "${raw}".`);
  }
  return currency;
}

/** An amount to charge: a positive integer of minor units, within Stripe's minimum for the currency and maximum. */
export function checkChargeAmount(amount: number, currency: string, param = "amount"): number {
  if (amount < 1) throw stripeErrors.integerBelow(param, 1);
  const minimum = minimumChargeAmounts[currency] ?? 1;
  if (amount < minimum) throw stripeErrors.amountTooSmall(param, minimum, currency);
  if (amount > maximumAmount) throw stripeErrors.amountTooLarge(param, maximumAmount);
  return amount;
}

/** What can still be refunded of a charge: what was captured minus what was refunded or released. */
export function refundableAmount(charge: { amount: number; amount_refunded: number; captured: boolean }): number {
  return charge.captured ? charge.amount - charge.amount_refunded : 0;
}
