import { describe, expect, it } from "vitest";
import { SlotValues } from "./slot-values.js";

describe("slot values", () => {
  it("keeps ids beyond two bytes once one comes, inline and in the overflow", () => {
    const values = new SlotValues(2);
    values.resize(4);
    values.set(0, [1, 2]);
    values.set(1, [3, 70_000, 80_000]);
    expect(values.values).toBeInstanceOf(Int32Array);
    expect(values.get(0)).toEqual([1, 2]);
    expect(values.get(1)).toEqual([3, 70_000, 80_000]);
    expect(values.has(1, 80_000)).toBe(true);
    values.resize(8);
    expect(values.get(1)).toEqual([3, 70_000, 80_000]);
  });
});
