/**
 * Sets of slots as bitsets: one bit per slot in a Uint32Array of `wordsFor(capacity)` words. A query's matches, the
 * live and in-stock slots and the frequent filter values are all held this way, so combining them is a pass of word
 * operations (31,250 words at a million slots) and counting them a popcount, whatever the number of matches.
 * Plain functions over the arrays rather than a class: the query loops call them on arrays they hold already.
 */

export function wordsFor(capacity: number): number {
  return Math.ceil(capacity / 32);
}

export function hasBit(bits: Uint32Array, slot: number): boolean {
  return (((bits[slot >>> 5] as number) >>> (slot & 31)) & 1) === 1;
}

export function setBit(bits: Uint32Array, slot: number): void {
  bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31));
}

export function clearBit(bits: Uint32Array, slot: number): void {
  bits[slot >>> 5] = (bits[slot >>> 5] as number) & ~(1 << (slot & 31));
}

/** Set bits of one word (SWAR: JavaScript has no popcount instruction). */
export function popcount32(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Slots in `bits`. */
export function countBits(bits: Uint32Array, words: number): number {
  let count = 0;
  for (let i = 0; i < words; i++) count += popcount32(bits[i] as number);
  return count;
}

/** Slots in both `a` and `b`. */
export function countBoth(a: Uint32Array, b: Uint32Array, words: number): number {
  let count = 0;
  for (let i = 0; i < words; i++) count += popcount32((a[i] as number) & (b[i] as number));
  return count;
}

/** target = target ∩ source. */
export function intersectInto(target: Uint32Array, source: Uint32Array, words: number): void {
  for (let i = 0; i < words; i++) target[i] = (target[i] as number) & (source[i] as number);
}

/** target = target ∪ source. */
export function uniteInto(target: Uint32Array, source: Uint32Array, words: number): void {
  for (let i = 0; i < words; i++) target[i] = (target[i] as number) | (source[i] as number);
}

/** Sets the bits of the first `size` slots of `slots`. */
export function setSlots(bits: Uint32Array, slots: Int32Array, size: number): void {
  for (let i = 0; i < size; i++) {
    const slot = slots[i] as number;
    bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31));
  }
}

/** How many of the first `size` slots of `slots` are in `bits`. */
export function countSlotsIn(bits: Uint32Array, slots: Int32Array, size: number): number {
  let count = 0;
  for (let i = 0; i < size; i++) {
    const slot = slots[i] as number;
    count += ((bits[slot >>> 5] as number) >>> (slot & 31)) & 1;
  }
  return count;
}

/**
 * Writes the slots of `bits` (less those of `without`, when given) into `out` in ascending order and returns how many
 * there are. Queries turn a match set, or the listed products it leaves out, into a list once when they go on to read
 * per-slot values of every one.
 */
export function listSlots(bits: Uint32Array, words: number, out: Int32Array, without?: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < words; i++) {
    let word = without ? (bits[i] as number) & ~(without[i] as number) : (bits[i] as number);
    while (word !== 0) {
      const lowest = word & -word;
      out[n++] = (i << 5) | (31 - Math.clz32(lowest));
      word ^= lowest;
    }
  }
  return n;
}

/** A copy of `bits` with room for `capacity` slots: bits beyond it are dropped, new ones are clear. */
export function resizeBits(bits: Uint32Array, capacity: number): Uint32Array {
  const words = wordsFor(capacity);
  const next = new Uint32Array(words);
  next.set(bits.subarray(0, words));
  const tail = capacity & 31;
  if (tail !== 0 && words <= bits.length) next[words - 1] = (next[words - 1] as number) & ((1 << tail) - 1);
  return next;
}
