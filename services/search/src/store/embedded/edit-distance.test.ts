import { describe, expect, it } from "vitest";
import { boundedEditDistance } from "./edit-distance.js";

describe("bounded edit distance", () => {
  it("counts substitutions, insertions, deletions and adjacent swaps as one typo each", () => {
    expect(boundedEditDistance("teapot", "teapot", 2)).toBe(0);
    expect(boundedEditDistance("teapot", "teapit", 2)).toBe(1);
    expect(boundedEditDistance("teapot", "teapto", 2)).toBe(1);
    expect(boundedEditDistance("teapot", "tepot", 2)).toBe(1);
    expect(boundedEditDistance("ceramic", "cerammik", 2)).toBe(2);
  });

  it("gives up past the bound", () => {
    expect(boundedEditDistance("teapot", "kettle", 1)).toBe(2);
    expect(boundedEditDistance("mug", "mugshots", 2)).toBe(3);
  });
});
