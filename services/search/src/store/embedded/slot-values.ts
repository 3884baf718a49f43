/**
 * Small sets of value ids per slot (a product's tags, collections or attribute pairs) in flat typed arrays: the
 * first `stride` ids of a slot sit inline, the rare rest in an overflow map. Queries check and count them for tens
 * of thousands of slots, and flat arrays keep that free of pointer chasing.
 */
export class SlotValues {
  counts = new Uint8Array(0);
  values = new Int32Array(0);
  private readonly overflow = new Map<number, number[]>();

  constructor(readonly stride: number) {}

  ensureCapacity(slots: number): void {
    if (slots <= this.counts.length) return;
    const counts = new Uint8Array(slots);
    counts.set(this.counts);
    const values = new Int32Array(slots * this.stride);
    values.set(this.values);
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

  hasAny(slot: number, ids: readonly number[]): boolean {
    for (const id of ids) if (this.has(slot, id)) return true;
    return false;
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
