/**
 * A place in a SlotOrder: the slot at `offset` of chunk `chunk` (offset may equal a chunk's size: its end). Valid
 * until the order next changes; the walks take positions from `start`, `end` and `seek` made just before.
 */
export interface OrderPosition {
  chunk: number;
  offset: number;
}

/**
 * The live slots sorted by one sort key (price, creation time, title), so that a query matching many products reads
 * its page by walking the order from the cursor and testing membership, instead of ranking every match. `compare`
 * must be a total order on slots read from their current keys; the index's break ties by slot number, which costs
 * nothing next to comparing product ids (its walks sort a page's ties by id themselves). A slot is removed before its
 * keys change and inserted again after. The order is kept in chunks of at most `2 · chunkSize` slots, so a change moves
 * part of one chunk where one sorted array would move up to a million entries.
 *
 * Inserts wait in a list until the order is next read or changed otherwise, then go in together: a build interleaves
 * a million inserts with indexing text, and an insert on its own finds none of the keys it compares in the CPU caches
 * (several times the cost, measured at a million products). A slot's keys cannot change while it waits, since
 * changing them starts with `remove`, which first puts the waiting slots in.
 */
export class SlotOrder {
  private chunks: Int32Array[] = [];
  private sizes: number[] = [];
  private count = 0;
  private waiting: number[] = [];

  constructor(
    private readonly compare: (a: number, b: number) => number,
    private readonly chunkSize = 1024,
  ) {}

  get size(): number {
    return this.count + this.waiting.length;
  }

  /** Index of the first chunk whose last slot is not before `slot` (the chunk `slot` belongs in), or the last one. */
  private chunkFor(slot: number): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const chunk = this.chunks[mid] as Int32Array;
      if (this.compare(chunk[(this.sizes[mid] as number) - 1] as number, slot) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** First offset in chunk `c` whose slot is not before `slot`. */
  private offsetIn(c: number, slot: number): number {
    const chunk = this.chunks[c] as Int32Array;
    let low = 0;
    let high = this.sizes[c] as number;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compare(chunk[mid] as number, slot) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  insert(slot: number): void {
    this.waiting.push(slot);
  }

  /**
   * Puts the waiting inserts in their places: one by one when they are few, else (after a build) sorted and merged
   * with the order in one pass, which compares each slot about log(waiting) times instead of log(size) times at
   * random places.
   */
  private settle(): void {
    const waiting = this.waiting;
    if (waiting.length === 0) return;
    this.waiting = [];
    if (waiting.length < 1024 || waiting.length * 8 < this.count) {
      for (const slot of waiting) this.place(slot);
      return;
    }
    const sorted = Int32Array.from(waiting).sort(this.compare);
    const merged = new Int32Array(this.count + sorted.length);
    let n = 0;
    let next = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c] as Int32Array;
      for (let i = 0; i < (this.sizes[c] as number); i++) {
        const slot = chunk[i] as number;
        while (next < sorted.length && this.compare(sorted[next] as number, slot) < 0)
          merged[n++] = sorted[next++] as number;
        merged[n++] = slot;
      }
    }
    while (next < sorted.length) merged[n++] = sorted[next++] as number;
    this.count = n;
    this.chunkUp(merged);
  }

  /** Replaces the chunks by full ones holding `all`, in order. */
  private chunkUp(all: Int32Array): void {
    this.chunks = [];
    this.sizes = [];
    for (let at = 0; at < all.length; at += this.chunkSize) {
      const end = Math.min(all.length, at + this.chunkSize);
      this.chunks.push(all.slice(at, end));
      this.sizes.push(end - at);
    }
  }

  private place(slot: number): void {
    if (this.chunks.length === 0) {
      this.chunks.push(new Int32Array(this.chunkSize));
      this.sizes.push(0);
    }
    const c = this.chunkFor(slot);
    const at = this.offsetIn(c, slot);
    let chunk = this.chunks[c] as Int32Array;
    const size = this.sizes[c] as number;
    if (size === chunk.length) {
      const grown = new Int32Array(Math.max(chunk.length * 2, 16));
      grown.set(chunk);
      chunk = grown;
      this.chunks[c] = chunk;
    }
    chunk.copyWithin(at + 1, at, size);
    chunk[at] = slot;
    this.sizes[c] = size + 1;
    this.count++;
    if (size + 1 >= 2 * this.chunkSize) this.split(c);
  }

  /** Halves a full chunk, so no change ever moves more than one chunk's worth of slots. */
  private split(c: number): void {
    const chunk = this.chunks[c] as Int32Array;
    const size = this.sizes[c] as number;
    const half = size >>> 1;
    const second = new Int32Array(2 * this.chunkSize);
    second.set(chunk.subarray(half, size));
    this.chunks.splice(c + 1, 0, second);
    this.sizes.splice(c + 1, 0, size - half);
    this.sizes[c] = half;
  }

  /** Removes `slot`, which must still have the keys it was inserted with; returns false when it is not here. */
  remove(slot: number): boolean {
    this.settle();
    if (this.chunks.length === 0) return false;
    const c = this.chunkFor(slot);
    const at = this.offsetIn(c, slot);
    const chunk = this.chunks[c] as Int32Array;
    const size = this.sizes[c] as number;
    if (at >= size || chunk[at] !== slot) return false;
    chunk.copyWithin(at, at + 1, size);
    this.sizes[c] = size - 1;
    this.count--;
    if (size === 1 && this.chunks.length > 1) {
      this.chunks.splice(c, 1);
      this.sizes.splice(c, 1);
    }
    return true;
  }

  /**
   * The position of the first slot for which `before` is false; `before` must hold for a prefix of the order and
   * not after it (e.g. "price below 10 EUR").
   */
  seek(before: (slot: number) => boolean): OrderPosition {
    this.settle();
    if (this.count === 0) return this.start();
    const { chunks, sizes } = this;
    let low = 0;
    let high = chunks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (before((chunks[mid] as Int32Array)[(sizes[mid] as number) - 1] as number)) low = mid + 1;
      else high = mid;
    }
    if (low === chunks.length) return this.end();
    const chunk = chunks[low] as Int32Array;
    let from = 0;
    let to = sizes[low] as number;
    while (from < to) {
      const mid = (from + to) >>> 1;
      if (before(chunk[mid] as number)) from = mid + 1;
      else to = mid;
    }
    return { chunk: low, offset: from };
  }

  start(): OrderPosition {
    this.settle();
    return { chunk: 0, offset: 0 };
  }

  end(): OrderPosition {
    this.settle();
    const last = this.chunks.length - 1;
    return last < 0 ? { chunk: 0, offset: 0 } : { chunk: last, offset: this.sizes[last] as number };
  }

  /** Slots from `from` (inclusive) to `to` (exclusive). */
  distance(from: OrderPosition, to: OrderPosition): number {
    if (from.chunk > to.chunk || (from.chunk === to.chunk && from.offset >= to.offset)) return 0;
    let n = -from.offset + to.offset;
    for (let c = from.chunk; c < to.chunk; c++) n += this.sizes[c] as number;
    return n;
  }

  /** Sets the bits of the slots from `from` up to `to` (exclusive) in `bits`; clears them with `clear`. */
  markRange(from: OrderPosition, to: OrderPosition, bits: Uint32Array, clear = false): void {
    const { chunks, sizes } = this;
    for (let c = from.chunk; c <= to.chunk && c < chunks.length; c++) {
      const chunk = chunks[c] as Int32Array;
      const end = c === to.chunk ? to.offset : (sizes[c] as number);
      for (let i = c === from.chunk ? from.offset : 0; i < end; i++) {
        const slot = chunk[i] as number;
        const word = slot >>> 5;
        const bit = 1 << (slot & 31);
        bits[word] = clear ? (bits[word] as number) & ~bit : (bits[word] as number) | bit;
      }
    }
  }

  /** Calls `visit` on the slots from `from` on, in order, until it returns false or the order ends. */
  forward(from: OrderPosition, visit: (slot: number) => boolean): void {
    const { chunks, sizes } = this;
    let offset = from.offset;
    for (let c = from.chunk; c < chunks.length; c++, offset = 0) {
      const chunk = chunks[c] as Int32Array;
      const size = sizes[c] as number;
      for (let i = offset; i < size; i++) if (!visit(chunk[i] as number)) return;
    }
  }

  /** Calls `visit` on the slots before `to`, last first, until it returns false or the order's start. */
  backward(to: OrderPosition, visit: (slot: number) => boolean): void {
    const { chunks, sizes } = this;
    for (let c = Math.min(to.chunk, chunks.length - 1); c >= 0; c--) {
      const chunk = chunks[c] as Int32Array;
      for (let i = (c === to.chunk ? to.offset : (sizes[c] as number)) - 1; i >= 0; i--)
        if (!visit(chunk[i] as number)) return;
    }
  }

  /** Repacks the slots into full chunks: after a build, inserts left most chunks between half and fully used. */
  trim(): void {
    this.settle();
    const all = new Int32Array(this.count);
    let n = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      all.set((this.chunks[c] as Int32Array).subarray(0, this.sizes[c]), n);
      n += this.sizes[c] as number;
    }
    this.chunkUp(all);
  }

  /** The slots in order (a copy), for tests. */
  toArray(): number[] {
    this.settle();
    const out: number[] = [];
    this.forward(this.start(), (slot) => {
      out.push(slot);
      return true;
    });
    return out;
  }

  get bytes(): number {
    let bytes = 0;
    for (const chunk of this.chunks) bytes += chunk.byteLength + 64;
    return bytes;
  }
}
