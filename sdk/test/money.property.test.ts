// Property tests of the SDK's money conversion (what the CLI's --price and every client's display go through):
// decimal text and integer minor units convert both ways without loss, and an amount finer than the currency's minor
// unit is refused, never rounded.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currencyExponent, formatMoney, parseMoney } from "../src/money.js";

/** ISO-shaped codes, weighted towards those whose exponent is not 2. */
const currencies = fc.oneof(
  fc.constantFrom("EUR", "USD", "JPY", "KRW", "BHD", "KWD", "TND", "CLF", "UYW"),
  fc.stringMatching(/^[A-Z]{3}$/),
);
/** The contract's range of Money.amount_minor. */
const minors = fc.bigInt({ min: 0n, max: 100_000_000_000_000n });

describe("money conversion (property)", () => {
  it("parses what it formats back to the same minor units, in every currency", () => {
    fc.assert(
      fc.property(currencies, minors, (code, amountMinor) => {
        const text = formatMoney({ currencyCode: code, amountMinor });
        const [amount, shownCode] = text.split(" ");
        expect(shownCode).toBe(code);
        const parsed = parseMoney(amount as string, code);
        expect(parsed.amountMinor).toBe(amountMinor);
        expect(parsed.currencyCode).toBe(code);
      }),
      { numRuns: 2000 },
    );
  });

  it("reads any decimal within the currency's precision exactly, whatever its trailing zeros or code's case", () => {
    fc.assert(
      fc.property(
        currencies,
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.nat({ max: 4 }),
        fc.nat(),
        (code, whole, decimals, fractionSeed) => {
          const exponent = currencyExponent(code);
          const places = Math.min(decimals, exponent);
          const fraction = places > 0 ? String(fractionSeed % 10 ** places).padStart(places, "0") : "";
          const text = fraction ? `${whole}.${fraction}` : `${whole}`;
          const expected = whole * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, "0") || "0");
          expect(parseMoney(text, code).amountMinor).toBe(expected);
          expect(parseMoney(fraction && places < exponent ? `${text}0` : text, code.toLowerCase()).amountMinor).toBe(
            expected,
          );
          // Formatting is canonical: formatting what it parsed and parsing again changes nothing.
          const canonical = formatMoney(parseMoney(text, code));
          expect(formatMoney(parseMoney(canonical.split(" ")[0] as string, code))).toBe(canonical);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("refuses an amount finer than the currency's minor unit instead of rounding it", () => {
    fc.assert(
      fc.property(
        currencies,
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.integer({ min: 1, max: 9 }),
        (code, whole, digit) => {
          const exponent = currencyExponent(code);
          const text = `${whole}.${"0".repeat(exponent)}${digit}`;
          expect(() => parseMoney(text, code)).toThrow(/decimal places/);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
