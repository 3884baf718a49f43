import { describe, expect, it } from "vitest";
import { analyze, foldText, stem, tokenize } from "./text-analysis.js";

describe("text analysis", () => {
  it("folds accents and case", () => {
    expect(foldText("Crème BRÛLÉE")).toBe("creme brulee");
  });

  it("splits on anything that is not a letter or digit", () => {
    expect(tokenize("T-Shirt, size 42 (navy)")).toEqual(["t", "shirt", "size", "42", "navy"]);
  });

  it("stems plurals as OpenSearch's minimal_english does", () => {
    expect(["mugs", "cherries", "glasses", "boxes", "bus", "glass", "toys", "shoes"].map(stem)).toEqual([
      "mug",
      "cherry",
      "glasse",
      "boxe",
      "bus",
      "glass",
      "toy",
      "shoes",
    ]);
    expect(analyze("Red Mugs")).toEqual(["red", "mug"]);
  });
});
