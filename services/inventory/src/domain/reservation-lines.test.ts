import { describe, expect, it } from "vitest";
import { decodeLines, encodeLines, maxUnitsPerSku, normalizeLines } from "./reservation-lines.js";

describe("normalizeLines", () => {
  it("merges repeated SKUs and sorts by SKU, so a retry in another order is the same request", () => {
    const a = normalizeLines([
      { sku: "B", quantity: 1n },
      { sku: "A", quantity: 2n },
      { sku: "B", quantity: 3n },
    ]);
    const b = normalizeLines([
      { sku: "A", quantity: 2n },
      { sku: "B", quantity: 4n },
    ]);
    expect(a).toEqual([
      { sku: "A", quantity: 2 },
      { sku: "B", quantity: 4 },
    ]);
    expect(encodeLines(a)).toBe(encodeLines(b));
  });

  it("refuses quantities that are not positive", () => {
    expect(() => normalizeLines([{ sku: "A", quantity: 0n }])).toThrow(/positive/);
  });

  it("refuses more units of one SKU than a reservation may hold", () => {
    const lines = Array.from({ length: 101 }, () => ({ sku: "A", quantity: 10_000n }));
    expect(() => normalizeLines(lines)).toThrow(String(maxUnitsPerSku));
  });

  it("round-trips through the stored form", () => {
    const lines = normalizeLines([{ sku: "MUG-1", quantity: 3n }]);
    expect(decodeLines(encodeLines(lines))).toEqual(lines);
  });
});
