import { PostingList } from "./posting-list.js";
import {
  clearBit,
  countBoth,
  countSlotsIn,
  hasBit,
  resizeBits,
  setBit,
  setSlots,
  uniteInto,
  wordsFor,
} from "./slot-bits.js";

/**
 * Exact-value field (tags, collections, attribute pairs, currency, price bucket): value ids and the slots holding each
 * value. A rare value keeps its slots as a sorted list, a frequent one as a bitset over all slots: filtering by it is
 * then a word-wise AND and counting it among a query's matches a popcount, however many products hold it. A list
 * costs 4 bytes per slot holding the value and a bitset 1/8 byte per slot of the index, so from 1 slot in 32 on the
 * bitset is also the smaller; it goes back to a list below 1 in 64, so a value near the line does not flip back and
 * forth.
 */
export class KeywordField {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  private readonly lists: Array<PostingList | undefined> = [];
  private readonly bitsets: Array<Uint32Array | undefined> = [];
  private counts = new Int32Array(16);
  /** Slots the index has room for: the length of every bitset. */
  private capacity = 0;

  idOf(value: string): number | undefined {
    return this.ids.get(value);
  }

  /** The id of `value`, created on first sight. Ids are never reused, so counts can live in plain arrays. */
  intern(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
      this.lists.push(new PostingList());
      this.bitsets.push(undefined);
      if (id === this.counts.length) {
        const counts = new Int32Array(this.counts.length * 2);
        counts.set(this.counts);
        this.counts = counts;
      }
    }
    return id;
  }

  /** Room for `capacity` slots (at least the slots in use), as the index's per-slot arrays. */
  resize(capacity: number): void {
    this.capacity = capacity;
    for (let id = 0; id < this.bitsets.length; id++) {
      const bits = this.bitsets[id];
      if (bits) this.bitsets[id] = resizeBits(bits, capacity);
    }
  }

  /** Moves `slot` from the values `before` to the values `after` (ids), touching only what differs. */
  update(slot: number, before: readonly number[], after: readonly number[]): void {
    for (const id of before) if (!after.includes(id)) this.remove(id, slot);
    for (const id of after) if (!before.includes(id)) this.add(id, slot);
  }

  add(id: number, slot: number): void {
    const bits = this.bitsets[id];
    if (bits) {
      if (hasBit(bits, slot)) return;
      setBit(bits, slot);
    } else if (!(this.lists[id] as PostingList).add(slot)) return;
    this.counts[id] = (this.counts[id] as number) + 1;
    if (!bits && (this.counts[id] as number) * 32 > this.capacity) this.toBits(id);
  }

  remove(id: number, slot: number): void {
    const bits = this.bitsets[id];
    if (bits) {
      if (!hasBit(bits, slot)) return;
      clearBit(bits, slot);
    } else if (!this.lists[id]?.remove(slot)) return;
    this.counts[id] = (this.counts[id] as number) - 1;
    if (bits && (this.counts[id] as number) * 64 < this.capacity) this.toList(id);
  }

  private toBits(id: number): void {
    const list = this.lists[id] as PostingList;
    const bits = new Uint32Array(wordsFor(this.capacity));
    setSlots(bits, list.slots, list.size);
    this.bitsets[id] = bits;
    this.lists[id] = undefined;
  }

  private toList(id: number): void {
    const bits = this.bitsets[id] as Uint32Array;
    const list = new PostingList(0, Math.max(4, this.counts[id] as number));
    // Ascending slots append at the end of the list: no search, no moves.
    for (let word = 0; word < bits.length; word++) {
      let rest = bits[word] as number;
      while (rest !== 0) {
        const lowest = rest & -rest;
        list.add((word << 5) | (31 - Math.clz32(lowest)));
        rest ^= lowest;
      }
    }
    this.lists[id] = list;
    this.bitsets[id] = undefined;
  }

  /** Documents holding the value; 0 for unknown values. */
  count(id: number): number {
    return id < this.values.length ? (this.counts[id] as number) : 0;
  }

  /** The value's slots as a bitset, when it is frequent. */
  bitsOf(id: number): Uint32Array | undefined {
    return this.bitsets[id];
  }

  /** The value's slots as a sorted list, when it is rare. */
  listOf(id: number): PostingList | undefined {
    return this.lists[id];
  }

  has(id: number, slot: number): boolean {
    const bits = this.bitsets[id];
    return bits ? hasBit(bits, slot) : (this.lists[id]?.has(slot) ?? false);
  }

  /** Adds the value's slots to `target` (a bitset of `words` words). */
  addSlotsTo(id: number, target: Uint32Array, words: number): void {
    const bits = this.bitsets[id];
    if (bits) {
      uniteInto(target, bits, words);
    } else {
      const list = this.lists[id];
      if (list) setSlots(target, list.slots, list.size);
    }
  }

  /** How many of the value's slots are in `match`. */
  countIn(id: number, match: Uint32Array, words: number): number {
    const bits = this.bitsets[id];
    if (bits) return countBoth(bits, match, words);
    const list = this.lists[id];
    return list ? countSlotsIn(match, list.slots, list.size) : 0;
  }

  /** Rough cost of `countIn` in word operations, for choosing between it and a walk over the matches. */
  countCost(id: number, words: number): number {
    return this.bitsets[id] ? words : this.count(id);
  }

  /** Gives back the room lists keep for growth. */
  trim(): void {
    for (const list of this.lists) list?.trim();
  }

  get bytes(): number {
    let bytes = this.counts.byteLength;
    for (const list of this.lists) bytes += (list?.bytes ?? 0) + 64;
    for (const bits of this.bitsets) bytes += bits?.byteLength ?? 0;
    for (const value of this.values) bytes += value.length * 2 + 32;
    return bytes;
  }
}
