import { PostingList } from "./posting-list.js";

/** Exact-value field (tags, collections, attribute pairs, currency): value ids and the slots holding each value. */
export class KeywordField {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  readonly postings: PostingList[] = [];

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
      this.postings.push(new PostingList());
    }
    return id;
  }

  /** Moves `slot` from the values `before` to the values `after` (ids), touching only what differs. */
  update(slot: number, before: readonly number[], after: readonly number[]): void {
    for (const id of before) if (!after.includes(id)) this.postings[id]?.remove(slot);
    for (const id of after) if (!before.includes(id)) this.postings[id]?.add(slot);
  }

  /** Documents holding the value; 0 for unknown values. */
  count(id: number): number {
    return this.postings[id]?.size ?? 0;
  }

  get bytes(): number {
    let bytes = 0;
    for (const list of this.postings) bytes += list.bytes + 64;
    for (const value of this.values) bytes += value.length * 2 + 32;
    return bytes;
  }
}
