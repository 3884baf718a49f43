import { describe, expect, it } from "vitest";
import { KeywordField } from "./keyword-field.js";
import { setBit, wordsFor } from "./slot-bits.js";

const capacity = 320;

/** A field with room for `capacity` slots where "common" is held by `slots`. */
function fieldWith(slots: number[]): { field: KeywordField; id: number } {
  const field = new KeywordField();
  field.resize(capacity);
  const id = field.intern("common");
  for (const slot of slots) field.update(slot, [], [id]);
  return { field, id };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("keyword field", () => {
  it("keeps a rare value as a list and turns it into a bitset once more than 1 slot in 32 holds it", () => {
    const { field, id } = fieldWith(range(0, 10));
    expect(field.listOf(id)?.size).toBe(10);
    expect(field.bitsOf(id)).toBeUndefined();
    field.add(id, 300);
    expect(field.bitsOf(id)).toBeDefined();
    expect(field.listOf(id)).toBeUndefined();
    expect(field.count(id)).toBe(11);
    expect(field.has(id, 300)).toBe(true);
    expect(field.has(id, 10)).toBe(false);
  });

  it("turns a bitset back into a list below 1 slot in 64, with the same slots in order", () => {
    const { field, id } = fieldWith(range(0, 40));
    for (const slot of range(0, 36)) field.remove(id, slot);
    expect(field.bitsOf(id)).toBeUndefined();
    expect(Array.from(field.listOf(id)?.slots.subarray(0, 4) ?? [])).toEqual([36, 37, 38, 39]);
    expect(field.count(id)).toBe(4);
  });

  it("counts adds and removes once, whatever the representation", () => {
    for (const slots of [range(0, 3), range(0, 50)]) {
      const { field, id } = fieldWith(slots);
      field.add(id, 1);
      field.remove(id, 200);
      field.update(2, [id], [id]);
      expect(field.count(id)).toBe(slots.length);
    }
  });

  it("adds its slots to a bitset and counts those in a match, as a list and as a bitset", () => {
    const match = new Uint32Array(wordsFor(capacity));
    for (const slot of [1, 2, 3, 45, 299]) setBit(match, slot);
    for (const slots of [
      [2, 45, 100],
      [2, 45, 100, ...range(150, 200)],
    ]) {
      const { field, id } = fieldWith(slots);
      expect(field.countIn(id, match, match.length)).toBe(2);
      const into = new Uint32Array(match.length);
      field.addSlotsTo(id, into, into.length);
      const expected = new Uint32Array(match.length);
      for (const slot of slots) setBit(expected, slot);
      expect(into).toEqual(expected);
    }
  });

  it("keeps a bitset value's slots when the index grows and when it is trimmed to the slots in use", () => {
    const { field, id } = fieldWith([...range(0, 20), 250]);
    field.resize(4096);
    field.add(id, 4000);
    expect(field.has(id, 4000)).toBe(true);
    field.remove(id, 4000);
    field.resize(251);
    expect(field.has(id, 250)).toBe(true);
    expect(field.count(id)).toBe(21);
  });
});
