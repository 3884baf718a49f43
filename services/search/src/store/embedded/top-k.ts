/**
 * The first `k` of a stream of candidates ordered by a numeric key (smaller first) and, on equal keys, by `tie`. Kept
 * as a small sorted array: for page-sized k this beats a heap, since once it is full almost every newcomer loses to
 * the current last in one comparison — which callers make themselves against `worst` in their loops.
 */
export class TopK {
  private readonly slots: Int32Array;
  private readonly keys: Float64Array;
  private size = 0;
  /** The key a newcomer must not exceed to have a chance: the last kept one's once full, else +∞. */
  worst = Number.POSITIVE_INFINITY;

  constructor(
    private readonly k: number,
    private readonly tie: (slotA: number, slotB: number) => number,
  ) {
    this.slots = new Int32Array(k);
    this.keys = new Float64Array(k);
  }

  private before(slot: number, key: number, at: number): boolean {
    const other = this.keys[at] as number;
    return key < other || (key === other && this.tie(slot, this.slots[at] as number) < 0);
  }

  offer(slot: number, key: number): void {
    const { slots, keys, k } = this;
    if (k === 0) return;
    if (this.size === k) {
      if (!this.before(slot, key, k - 1)) return;
      this.size--;
    }
    let at = this.size;
    while (at > 0 && this.before(slot, key, at - 1)) {
      slots[at] = slots[at - 1] as number;
      keys[at] = keys[at - 1] as number;
      at--;
    }
    slots[at] = slot;
    keys[at] = key;
    this.size++;
    if (this.size === k) this.worst = keys[k - 1] as number;
  }

  /** The kept slots, first first. */
  result(): number[] {
    return Array.from(this.slots.subarray(0, this.size));
  }
}
