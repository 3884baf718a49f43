/**
 * Document slots holding one value (a tag, a collection, a term), kept sorted so a slot is found by binary search and
 * removed exactly when its document changes. `payload` carries a fixed number of bytes per slot (term frequencies
 * per field, capped at 255, for text; nothing for keywords).
 */
export class PostingList {
  slots: Int32Array;
  payload: Uint8Array;
  size = 0;

  constructor(
    readonly payloadWidth = 0,
    capacity = 4,
  ) {
    this.slots = new Int32Array(capacity);
    this.payload = new Uint8Array(capacity * payloadWidth);
  }

  /** Position of `slot`, or -(insertion point) - 1 when absent. */
  indexOf(slot: number): number {
    let low = 0;
    let high = this.size - 1;
    const slots = this.slots;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = slots[mid] as number;
      if (value < slot) low = mid + 1;
      else if (value > slot) high = mid - 1;
      else return mid;
    }
    return -low - 1;
  }

  has(slot: number): boolean {
    return this.indexOf(slot) >= 0;
  }

  /**
   * Adds `slot` (or replaces its payload, read from `payload` at `payloadAt`); returns false when it was already
   * there.
   */
  add(slot: number, payload?: ArrayLike<number>, payloadAt = 0): boolean {
    const width = this.payloadWidth;
    let at = this.size > 0 && (this.slots[this.size - 1] as number) < slot ? -this.size - 1 : this.indexOf(slot);
    const added = at < 0;
    if (added) {
      at = -at - 1;
      if (this.size === this.slots.length) this.grow();
      this.slots.copyWithin(at + 1, at, this.size);
      if (width > 0) this.payload.copyWithin((at + 1) * width, at * width, this.size * width);
      this.slots[at] = slot;
      this.size++;
    }
    for (let i = 0; i < width; i++) this.payload[at * width + i] = payload?.[payloadAt + i] ?? 0;
    return added;
  }

  /** Removes `slot`; returns false when it was not there. */
  remove(slot: number): boolean {
    const at = this.indexOf(slot);
    if (at < 0) return false;
    const width = this.payloadWidth;
    this.slots.copyWithin(at, at + 1, this.size);
    if (width > 0) this.payload.copyWithin(at * width, (at + 1) * width, this.size * width);
    this.size--;
    return true;
  }

  /** Gives back the room kept for growth. */
  trim(): void {
    if (this.slots.length === this.size) return;
    this.slots = this.slots.slice(0, this.size);
    this.payload = this.payload.slice(0, this.size * this.payloadWidth);
  }

  private grow(): void {
    const capacity = Math.max(4, this.slots.length * 2);
    const slots = new Int32Array(capacity);
    slots.set(this.slots);
    this.slots = slots;
    if (this.payloadWidth > 0) {
      const payload = new Uint8Array(capacity * this.payloadWidth);
      payload.set(this.payload);
      this.payload = payload;
    }
  }

  /** Bytes held, for the memory figure of the benchmark. */
  get bytes(): number {
    return this.slots.byteLength + this.payload.byteLength;
  }
}
