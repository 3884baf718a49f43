import { describe, expect, it } from "vitest";
import { availableOf, stockLevel } from "./stock-level.js";

describe("availableOf", () => {
  it("is on hand minus reserved", () => {
    expect(availableOf(10n, 3n)).toBe(7n);
  });

  it("never offers a negative amount when a seller counted fewer units than are held", () => {
    expect(availableOf(2n, 5n)).toBe(0n);
  });

  it("fills the contract's StockLevel", () => {
    expect(stockLevel("A", 4n, 1n, 9n)).toMatchObject({
      sku: "A",
      onHand: 4n,
      reserved: 1n,
      available: 3n,
      version: 9n,
    });
  });
});
