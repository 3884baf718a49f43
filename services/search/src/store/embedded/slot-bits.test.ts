import { describe, expect, it } from "vitest";
import {
  clearBit,
  countBits,
  countBoth,
  countSlotsIn,
  hasBit,
  intersectInto,
  listSlots,
  popcount32,
  resizeBits,
  setBit,
  setSlots,
  uniteInto,
  wordsFor,
} from "./slot-bits.js";

/** A bitset of `capacity` slots holding `slots`. */
function bitsOf(capacity: number, slots: number[]): Uint32Array {
  const bits = new Uint32Array(wordsFor(capacity));
  for (const slot of slots) setBit(bits, slot);
  return bits;
}

function slotsOf(bits: Uint32Array): number[] {
  const out = new Int32Array(bits.length * 32);
  return Array.from(out.subarray(0, listSlots(bits, bits.length, out)));
}

describe("slot bits", () => {
  it("counts the bits of any word, the sign bit included", () => {
    for (const word of [0, 1, 0x80000000, 0xffffffff, 0x55555555, 0x12345678]) {
      expect(popcount32(word)).toBe(
        word
          .toString(2)
          .split("")
          .filter((bit) => bit === "1").length,
      );
    }
  });

  it("lists the slots of one set that another leaves out", () => {
    const live = bitsOf(100, [0, 5, 31, 32, 63, 64, 99]);
    const matched = bitsOf(100, [5, 32, 99]);
    const out = new Int32Array(100);
    expect(Array.from(out.subarray(0, listSlots(live, live.length, out, matched)))).toEqual([0, 31, 63, 64]);
  });

  it("sets, clears, lists and counts slots across word boundaries", () => {
    const bits = bitsOf(100, [0, 31, 32, 63, 64, 99]);
    clearBit(bits, 63);
    expect(slotsOf(bits)).toEqual([0, 31, 32, 64, 99]);
    expect(hasBit(bits, 31)).toBe(true);
    expect(hasBit(bits, 63)).toBe(false);
    expect(countBits(bits, bits.length)).toBe(5);
  });

  it("intersects, unites and counts the common slots of two sets", () => {
    const a = bitsOf(70, [1, 5, 33, 34, 69]);
    const b = bitsOf(70, [5, 34, 35, 68, 69]);
    expect(countBoth(a, b, a.length)).toBe(3);
    const union = Uint32Array.from(a);
    uniteInto(union, b, union.length);
    expect(slotsOf(union)).toEqual([1, 5, 33, 34, 35, 68, 69]);
    intersectInto(a, b, a.length);
    expect(slotsOf(a)).toEqual([5, 34, 69]);
  });

  it("marks and counts the slots of a list", () => {
    const bits = bitsOf(64, [2, 40]);
    setSlots(bits, Int32Array.of(3, 40, 63, 0), 3);
    expect(slotsOf(bits)).toEqual([2, 3, 40, 63]);
    expect(countSlotsIn(bits, Int32Array.of(1, 2, 3, 63), 4)).toBe(3);
  });

  it("keeps the slots that fit when resized, and drops those beyond the new capacity", () => {
    const bits = bitsOf(64, [1, 40, 45, 63]);
    expect(slotsOf(resizeBits(bits, 200))).toEqual([1, 40, 45, 63]);
    expect(slotsOf(resizeBits(bits, 41))).toEqual([1, 40]);
  });
});
