import { create } from "@bufbuild/protobuf";
import { type Money, MoneySchema } from "@shop/contracts/shop/common/v1/money_pb.js";

/** ISO 4217 minor-unit exponents that differ from 2. */
const exponents: Record<string, number> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export function currencyExponent(currencyCode: string): number {
  return exponents[currencyCode] ?? 2;
}

/**
 * Parses a decimal amount exactly into minor units: "12.50" EUR → 1250. More decimals than the currency has is an
 * error, never a rounding ("12.505" EUR throws).
 */
export function parseMoney(amount: string, currencyCode: string): Money {
  const code = currencyCode.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new Error(`currency "${currencyCode}" is not an ISO 4217 code such as EUR`);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!match) throw new Error(`price "${amount}" is not a decimal amount such as 12.50`);
  const exponent = currencyExponent(code);
  const fraction = match[2] ?? "";
  if (fraction.length > exponent) {
    throw new Error(`price "${amount}" has more than ${exponent} decimal places, which ${code} does not have`);
  }
  const minor = BigInt(match[1] as string) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, "0") || "0");
  return create(MoneySchema, { currencyCode: code, amountMinor: minor });
}

/** "12.50 EUR" from 1250 minor units. */
export function formatMoney(money: Pick<Money, "currencyCode" | "amountMinor"> | undefined): string {
  if (!money) return "";
  const exponent = currencyExponent(money.currencyCode);
  const negative = money.amountMinor < 0n;
  const digits = (negative ? -money.amountMinor : money.amountMinor).toString().padStart(exponent + 1, "0");
  const whole = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return `${negative ? "-" : ""}${whole} ${money.currencyCode}`;
}
