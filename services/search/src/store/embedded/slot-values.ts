/**
 * Small sets of value ids per slot (a product's tags, collections or attribute pairs) in flat typed arrays: the
 * first `stride` ids of a slot sit inline, the rare rest in an overflow map. Facet walks count them for tens
 * of thousands of slots, and flat arrays keep that free of pointer chasing. Ids take two bytes each until one does
 * not fit (a field with more than 65,536 values), then four.
 */
export class SlotValues {
  counts = new Uint8Array(0);
  values: Uint16Array | Int32Array = new Uint16Array(0);
  private readonly overflow = new Map<number, number[]>();

  constructor(readonly stride: number) {}

  /** Room for `slots` slots (at least the slots in use). */
  resize(slots: number): void {
    if (slots === this.counts.length) return;
    const counts = new Uint8Array(slots);
    counts.set(this.counts.subarray(0, slots));
    const values =
      this.values instanceof Uint16Array ? new Uint16Array(slots * this.stride) : new Int32Array(slots * this.stride);
    values.set(this.values.subarray(0, values.length));
    this.counts = counts;
    this.values = values;
  }

  /** The ids of a slot (a copy). */
  get(slot: number): number[] {
    const count = this.counts[slot] as number;
    const ids: number[] = [];
    const inline = Math.min(count, this.stride);
    for (let i = 0; i < inline; i++) ids.push(this.values[slot * this.stride + i] as number);
    if (count > this.stride) ids.push(...(this.overflow.get(slot) ?? []));
    return ids;
  }

  set(slot: number, ids: readonly number[]): void {
    if (this.values instanceof Uint16Array && ids.some((id) => id > 0xffff)) this.values = Int32Array.from(this.values);
    const count = Math.min(ids.length, 255);
    this.counts[slot] = count;
    for (let i = 0; i < Math.min(count, this.stride); i++) this.values[slot * this.stride + i] = ids[i] as number;
    if (count > this.stride) this.overflow.set(slot, ids.slice(this.stride, count));
    else this.overflow.delete(slot);
  }

  has(slot: number, id: number): boolean {
    const count = this.counts[slot] as number;
    const base = slot * this.stride;
    const inline = Math.min(count, this.stride);
    for (let i = 0; i < inline; i++) if (this.values[base + i] === id) return true;
    return count > this.stride && (this.overflow.get(slot)?.includes(id) ?? false);
  }

  /** Adds `step` to `counts[id]` for each id of the slot beyond the inline ones. */
  countOverflowInto(slot: number, counts: Int32Array, step = 1): void {
    for (const id of this.overflow.get(slot) ?? []) counts[id] = (counts[id] as number) + step;
  }

  get bytes(): number {
    let bytes = this.counts.byteLength + this.values.byteLength;
    for (const ids of this.overflow.values()) bytes += 32 + ids.length * 8;
    return bytes;
  }
}
