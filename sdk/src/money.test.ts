import { describe, expect, it } from "vitest";
import { formatMoney, parseMoney } from "./money.js";

describe("money", () => {
  it("converts decimal input exactly to minor units per currency", () => {
    expect(parseMoney("12.50", "EUR").amountMinor).toBe(1250n);
    expect(parseMoney("12.5", "eur").amountMinor).toBe(1250n);
    expect(parseMoney("12", "EUR").amountMinor).toBe(1200n);
    expect(parseMoney("1200", "JPY").amountMinor).toBe(1200n);
    expect(parseMoney("1.234", "KWD").amountMinor).toBe(1234n);
    expect(parseMoney("0.07", "USD").amountMinor).toBe(7n);
  });

  it("refuses more decimals than the currency has instead of rounding", () => {
    expect(() => parseMoney("12.505", "EUR")).toThrow(/more than 2 decimal places/);
    expect(() => parseMoney("12.5", "JPY")).toThrow(/more than 0 decimal places/);
  });

  it("refuses negative, non-numeric and float-formatted input", () => {
    expect(() => parseMoney("-1", "EUR")).toThrow();
    expect(() => parseMoney("1e3", "EUR")).toThrow();
    expect(() => parseMoney("abc", "EUR")).toThrow();
    expect(() => parseMoney("1", "EURO")).toThrow(/ISO 4217/);
  });

  it("formats minor units back to a decimal string", () => {
    expect(formatMoney({ currencyCode: "EUR", amountMinor: 1250n })).toBe("12.50 EUR");
    expect(formatMoney({ currencyCode: "EUR", amountMinor: 5n })).toBe("0.05 EUR");
    expect(formatMoney({ currencyCode: "JPY", amountMinor: 1200n })).toBe("1200 JPY");
  });
});
