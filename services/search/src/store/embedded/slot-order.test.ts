import { describe, expect, it } from "vitest";
import { listSlots, wordsFor } from "./slot-bits.js";
import { SlotOrder } from "./slot-order.js";

/** A tiny seeded generator (LCG), so a failing sequence of changes can be replayed. */
function randomOf(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((state / 4_294_967_296) * n);
  };
}

/** An order over `keys` (few distinct values, so ties are common) with small chunks, so chunks split and empty. */
function orderOver(keys: number[]): SlotOrder {
  return new SlotOrder((a, b) => (keys[a] as number) - (keys[b] as number) || a - b, 4);
}

/** What the order must hold: the live slots sorted by key, then slot. */
function expectedOrder(keys: number[], live: Set<number>): number[] {
  return [...live].sort((a, b) => (keys[a] as number) - (keys[b] as number) || a - b);
}

describe("slot order", () => {
  it("stays sorted through inserts, removals and key changes, read before and after each batch", () => {
    const random = randomOf(7);
    const keys: number[] = [];
    const live = new Set<number>();
    const order = orderOver(keys);
    for (let step = 0; step < 3000; step++) {
      const slot = random(300);
      if (!live.has(slot)) {
        keys[slot] = random(20);
        order.insert(slot);
        live.add(slot);
      } else if (random(2) === 0) {
        expect(order.remove(slot)).toBe(true);
        live.delete(slot);
      } else {
        // A key change: out under the old key, in under the new one (inserts wait until the next read).
        order.remove(slot);
        keys[slot] = random(20);
        order.insert(slot);
      }
      if (random(10) === 0) expect(order.toArray()).toEqual(expectedOrder(keys, live));
      if (random(200) === 0) order.trim();
    }
    expect(order.size).toBe(live.size);
    expect(order.toArray()).toEqual(expectedOrder(keys, live));
    expect(order.remove(1000)).toBe(false);
  });

  it("merges a burst of inserts (a build) into the slots already in order", () => {
    const random = randomOf(3);
    const keys = Array.from({ length: 6000 }, () => random(50));
    const order = orderOver(keys);
    const live = new Set<number>();
    for (let slot = 0; slot < 6000; slot += 7) {
      order.insert(slot);
      live.add(slot);
    }
    expect(order.toArray()).toEqual(expectedOrder(keys, live));
    for (let slot = 0; slot < 6000; slot++) {
      if (live.has(slot)) continue;
      order.insert(slot);
      live.add(slot);
    }
    expect(order.size).toBe(6000);
    expect(order.toArray()).toEqual(expectedOrder(keys, live));
    expect(order.remove(42)).toBe(true);
    order.insert(42);
    expect(order.toArray()).toEqual(expectedOrder(keys, live));
  });

  it("seeks the first slot past a prefix, and walks forward and backward from there", () => {
    const keys = Array.from({ length: 50 }, (_, slot) => slot % 10);
    const order = orderOver(keys);
    for (let slot = 49; slot >= 0; slot--) order.insert(slot);
    const sorted = expectedOrder(keys, new Set(keys.keys()));
    const at = order.seek((slot) => (keys[slot] as number) < 7);
    const forward: number[] = [];
    order.forward(at, (slot) => forward.push(slot) < 7);
    expect(forward).toEqual(sorted.slice(35, 42));
    const backward: number[] = [];
    order.backward(at, (slot) => {
      backward.push(slot);
      return true;
    });
    expect(backward).toEqual(sorted.slice(0, 35).reverse());
    expect(order.distance(order.start(), at)).toBe(35);
    expect(order.distance(at, order.end())).toBe(15);
    expect(order.seek(() => true)).toEqual(order.end());
    expect(order.seek(() => false)).toEqual(order.start());
  });

  it("marks and clears the bits of a stretch of the order", () => {
    const keys = Array.from({ length: 40 }, (_, slot) => 39 - slot);
    const order = orderOver(keys);
    for (let slot = 0; slot < 40; slot++) order.insert(slot);
    const bits = new Uint32Array(wordsFor(40));
    const from = order.seek((slot) => (keys[slot] as number) < 10);
    const to = order.seek((slot) => (keys[slot] as number) < 20);
    order.markRange(from, to, bits);
    const out = new Int32Array(40);
    expect(Array.from(out.subarray(0, listSlots(bits, bits.length, out)))).toEqual([
      20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    ]);
    order.markRange(
      order.seek((slot) => (keys[slot] as number) < 15),
      to,
      bits,
      true,
    );
    expect(Array.from(out.subarray(0, listSlots(bits, bits.length, out)))).toEqual([25, 26, 27, 28, 29]);
  });

  it("answers reads on an empty order", () => {
    const order = orderOver([]);
    expect(order.toArray()).toEqual([]);
    expect(order.seek(() => true)).toEqual(order.start());
    expect(order.distance(order.start(), order.end())).toBe(0);
    order.backward(order.end(), () => {
      throw new Error("nothing to visit");
    });
  });
});
