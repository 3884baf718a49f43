import { Numbering } from "../../domain/numbering.js";
import { analyze, stem } from "../../domain/text-analysis.js";
import { boundedEditDistance } from "./edit-distance.js";
import { PostingList } from "./posting-list.js";

/** Searched fields, in payload order, and their boosts: a word in the title counts three times one in the text. */
export const textFields = ["title", "tags", "description"] as const;
const boosts = [3, 2, 1];
const descriptionField = 2;
const fieldCount = textFields.length;
/** BM25 parameters, Lucene's defaults. */
const k1 = 1.2;
const b = 0.75;
/** Share of the other fields' scores added to the best field's (OpenSearch multi_match `tie_breaker`). */
const tieBreaker = 0.3;
/** How much a word counts when it matched as a prefix or with typos instead of exactly. */
const prefixWeight = 0.8;
const typoWeights = [1, 0.5, 0.3];
/** Expansions kept per word and kind (the most frequent terms win), bounding the cost of short prefixes. */
const maxExpansions = 50;
const maxWords = 32;

/** Terms a query word stands for, with the weight of each. */
interface Expansion {
  termIds: number[];
  weights: number[];
  /** Matched only as a prefix: counts in title and tags, not in the description. */
  prefixOnly: boolean[];
  cost: number;
}

/** Text matches of a query: slots with their BM25 scores, in no particular order. */
export interface TextMatch {
  slots: Int32Array;
  scores: Float64Array;
}

/** Typo allowance by word length, as OpenSearch's `fuzziness: AUTO:4,8`: none below 4 letters, 2 from 8. */
export function allowedTypos(word: string): number {
  return word.length >= 8 ? 2 : word.length >= 4 ? 1 : 0;
}

/**
 * An inverted index over title, tags and description with BM25 scoring, prefix and typo tolerant word matching and
 * AND semantics (every query word must match, in any field). Postings are sorted by slot and updated in place when a
 * document changes, so an update costs the document's own terms and no rebuild.
 */
export class TextIndex {
  private readonly terms = new Numbering();
  private readonly postings: PostingList[] = [];
  /** Documents per term and field: termDf[term * fieldCount + field]. */
  private termDf = new Int32Array(1024 * fieldCount);
  /** Every term, sorted, for prefix ranges. */
  private readonly sortedTerms: string[] = [];
  /** Term ids by first letter, for the typo scan. */
  private readonly byFirstLetter = new Map<string, number[]>();

  private lengths = new Uint16Array(0);
  private readonly totalLength = new Float64Array(fieldCount);
  private docCount = 0;

  /** Per-slot scratch, reused by every query (searches run synchronously, one at a time). */
  private total = new Float64Array(0);
  private wordScore = new Float64Array(0);
  private mark = new Int32Array(0);
  private epoch = 0;

  /** Room for `capacity` slots (at least the slots in use). */
  resize(capacity: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint16Array>(old: T, make: (n: number) => T, width = 1) => {
      const next = make(capacity * width);
      next.set(old.subarray(0, next.length));
      return next;
    };
    this.total = grow(this.total, (n) => new Float64Array(n));
    this.wordScore = grow(this.wordScore, (n) => new Float64Array(n));
    this.mark = grow(this.mark, (n) => new Int32Array(n));
    this.lengths = grow(this.lengths, (n) => new Uint16Array(n), fieldCount);
  }

  private internTerm(term: string): number {
    return this.terms.numberOf(term, (id) => {
      this.postings.push(new PostingList(fieldCount));
      if ((id + 1) * fieldCount > this.termDf.length) {
        const df = new Int32Array(this.termDf.length * 2);
        df.set(this.termDf);
        this.termDf = df;
      }
      this.sortedTerms.splice(lowerBound(this.sortedTerms, term), 0, term);
      const letter = term[0] as string;
      const bucket = this.byFirstLetter.get(letter);
      if (bucket) bucket.push(id);
      else this.byFirstLetter.set(letter, [id]);
    });
  }

  /**
   * Indexes a document's text; `fields` follow `textFields`. The index does not keep a copy of each document's
   * terms (that would cost a fifth of its memory): whoever re-indexes or removes a document passes its previous
   * text, which analyzes to the same terms again.
   */
  index(slot: number, fields: readonly [string, string, string], previous?: readonly [string, string, string]): void {
    if (previous) this.remove(slot, previous);
    const frequencies = new Map<number, Uint8Array>();
    for (let field = 0; field < fieldCount; field++) {
      const words = analyze(fields[field] as string);
      this.lengths[slot * fieldCount + field] = Math.min(words.length, 65_535);
      this.totalLength[field] = (this.totalLength[field] as number) + words.length;
      for (const word of words) {
        const id = this.internTerm(word);
        let tf = frequencies.get(id);
        if (tf === undefined) frequencies.set(id, (tf = new Uint8Array(fieldCount)));
        if ((tf[field] as number) < 255) tf[field] = (tf[field] as number) + 1;
      }
    }
    for (const [id, tf] of frequencies) {
      this.postings[id]?.add(slot, tf);
      for (let field = 0; field < fieldCount; field++)
        if (tf[field]) this.termDf[id * fieldCount + field] = (this.termDf[id * fieldCount + field] as number) + 1;
    }
    this.docCount++;
  }

  /** Removes a document indexed with `fields`. */
  remove(slot: number, fields: readonly [string, string, string]): void {
    const ids = new Set<number>();
    for (const field of fields) {
      for (const word of analyze(field)) {
        const id = this.terms.find(word);
        if (id !== undefined) ids.add(id);
      }
    }
    let removed = false;
    for (const id of ids) {
      const list = this.postings[id] as PostingList;
      const at = list.indexOf(slot);
      if (at < 0) continue;
      removed = true;
      for (let field = 0; field < fieldCount; field++)
        if (list.payload[at * fieldCount + field])
          this.termDf[id * fieldCount + field] = (this.termDf[id * fieldCount + field] as number) - 1;
      list.remove(slot);
    }
    if (!removed && ids.size > 0) return;
    for (let field = 0; field < fieldCount; field++)
      this.totalLength[field] =
        (this.totalLength[field] as number) - (this.lengths[slot * fieldCount + field] as number);
    this.docCount--;
  }

  /** The terms a query word stands for: itself (stemmed), terms it is a prefix of, and terms within its typos. */
  private expand(word: string): Expansion {
    const weights = new Map<number, number>();
    const wholeWords = new Set<number>();
    const consider = (id: number | undefined, weight: number, asPrefix = false) => {
      if (id === undefined || (this.postings[id]?.size ?? 0) === 0) return;
      if (weight > (weights.get(id) ?? 0)) weights.set(id, weight);
      if (!asPrefix) wholeWords.add(id);
    };
    const stemmed = stem(word);
    consider(this.terms.find(stemmed), 1);
    consider(this.terms.find(word), 1);
    if (word.length >= 2) {
      const prefixed: number[] = [];
      for (let i = lowerBound(this.sortedTerms, word); i < this.sortedTerms.length; i++) {
        const term = this.sortedTerms[i] as string;
        if (!term.startsWith(word)) break;
        const id = this.terms.find(term) as number;
        // As-you-type matching is for names: a prefix of a word only found in descriptions is noise.
        if ((this.termDf[id * fieldCount] as number) + (this.termDf[id * fieldCount + 1] as number) > 0)
          prefixed.push(id);
      }
      for (const id of this.mostFrequent(prefixed)) consider(id, prefixWeight, true);
    }
    const typos = allowedTypos(word);
    if (typos > 0) {
      const close: number[] = [];
      const distances = new Map<number, number>();
      for (const id of this.byFirstLetter.get(stemmed[0] as string) ?? []) {
        const term = this.terms.nameOf(id);
        if (Math.abs(term.length - stemmed.length) > typos) continue;
        const distance = boundedEditDistance(stemmed, term, typos);
        if (distance > 0 && distance <= typos) {
          close.push(id);
          distances.set(id, distance);
        }
      }
      for (const id of this.mostFrequent(close)) consider(id, typoWeights[distances.get(id) as number] as number);
    }
    const termIds = [...weights.keys()];
    const cost = termIds.reduce((sum, id) => sum + (this.postings[id]?.size ?? 0), 0);
    return {
      termIds,
      weights: termIds.map((id) => weights.get(id) as number),
      prefixOnly: termIds.map((id) => !wholeWords.has(id)),
      cost,
    };
  }

  private mostFrequent(ids: number[]): number[] {
    if (ids.length <= maxExpansions) return ids;
    return ids.sort((x, y) => (this.postings[y]?.size ?? 0) - (this.postings[x]?.size ?? 0)).slice(0, maxExpansions);
  }

  /** BM25 weight of each field for a term, boost included; 0 for fields the term is not in. */
  private fieldWeights(id: number, namesOnly = false): Float64Array {
    const weights = new Float64Array(fieldCount);
    for (let field = 0; field < (namesOnly ? descriptionField : fieldCount); field++) {
      const df = this.termDf[id * fieldCount + field] as number;
      if (df > 0) weights[field] = (boosts[field] as number) * Math.log(1 + (this.docCount - df + 0.5) / (df + 0.5));
    }
    return weights;
  }

  /**
   * The length part of BM25's denominator, k1·(1 − b + b·length/average), as slope·length + base per field, so a
   * posting costs a multiply-add instead of a division.
   */
  private lengthNorms(): Float64Array {
    const norms = new Float64Array(fieldCount * 2);
    for (let field = 0; field < fieldCount; field++) {
      const average = Math.max(1, (this.totalLength[field] as number) / Math.max(1, this.docCount));
      norms[field * 2] = (k1 * b) / average;
      norms[field * 2 + 1] = k1 * (1 - b);
    }
    return norms;
  }

  /** Score of posting `at` of `list` (slot `slot`): best field plus a share of the others. */
  private scorePosting(
    list: PostingList,
    at: number,
    slot: number,
    weights: Float64Array,
    norms: Float64Array,
  ): number {
    let best = 0;
    let sum = 0;
    for (let field = 0; field < fieldCount; field++) {
      const tf = list.payload[at * fieldCount + field] as number;
      if (tf === 0) continue;
      const length = this.lengths[slot * fieldCount + field] as number;
      const norm = (norms[field * 2] as number) * length + (norms[field * 2 + 1] as number);
      const score = ((weights[field] as number) * tf * (k1 + 1)) / (tf + norm);
      sum += score;
      if (score > best) best = score;
    }
    return best + tieBreaker * (sum - best);
  }

  /**
   * Documents containing every word (each exactly, as a prefix or with allowed typos, in any field) with their
   * scores: per word the best of its expansions, summed over words. The rarest word goes first and fixes the
   * candidates; later words either walk their postings or, when the candidates are few, look each one up.
   */
  match(rawWords: readonly string[]): TextMatch {
    const words = [...new Set(rawWords)].slice(0, maxWords);
    const plans = words.map((word) => this.expand(word));
    if (plans.length === 0 || plans.some((plan) => plan.termIds.length === 0)) {
      return { slots: new Int32Array(0), scores: new Float64Array(0) };
    }
    plans.sort((x, y) => x.cost - y.cost);
    const norms = this.lengthNorms();
    const base = (this.epoch += maxWords + 1);
    if (this.epoch > 2_000_000_000) {
      this.mark.fill(0);
      this.epoch = maxWords + 1;
    }
    const { total, wordScore, mark } = this;
    let candidates: number[] = [];

    plans.forEach((plan, round) => {
      const lookUp = round > 0 && candidates.length * plan.termIds.length * 16 < plan.cost;
      if (lookUp) {
        const next: number[] = [];
        const lists = plan.termIds.map((id) => this.postings[id] as PostingList);
        const fieldWeights = plan.termIds.map((id, k) => this.fieldWeights(id, plan.prefixOnly[k]));
        for (const slot of candidates) {
          let best = 0;
          for (let k = 0; k < lists.length; k++) {
            const list = lists[k] as PostingList;
            const at = list.indexOf(slot);
            if (at < 0) continue;
            const weight = plan.weights[k] as number;
            const score = weight * this.scorePosting(list, at, slot, fieldWeights[k] as Float64Array, norms);
            if (score > best) best = score;
          }
          if (best > 0) {
            total[slot] = (total[slot] as number) + best;
            mark[slot] = base + round + 1;
            next.push(slot);
          }
        }
        candidates = next;
        return;
      }
      const touched: number[] = [];
      plan.termIds.forEach((id, k) => {
        const list = this.postings[id] as PostingList;
        const weights = this.fieldWeights(id, plan.prefixOnly[k]);
        const weight = plan.weights[k] as number;
        const slots = list.slots;
        for (let at = 0; at < list.size; at++) {
          const slot = slots[at] as number;
          if (round > 0 && mark[slot] !== base + round) continue;
          const score = weight * this.scorePosting(list, at, slot, weights, norms);
          if (score === 0) continue;
          const previous = wordScore[slot] as number;
          if (previous === 0) touched.push(slot);
          if (score > previous) wordScore[slot] = score;
        }
      });
      for (const slot of touched) {
        total[slot] = round === 0 ? (wordScore[slot] as number) : (total[slot] as number) + (wordScore[slot] as number);
        wordScore[slot] = 0;
        mark[slot] = base + round + 1;
      }
      candidates = touched;
    });

    const slots = Int32Array.from(candidates);
    const scores = new Float64Array(slots.length);
    for (let i = 0; i < slots.length; i++) scores[i] = total[slots[i] as number] as number;
    return { slots, scores };
  }

  /** Gives back the room postings keep for growth. */
  trim(): void {
    for (const list of this.postings) list.trim();
  }

  /** Bytes held by postings, lengths and the dictionary, for the benchmark's memory figure. */
  get bytes(): number {
    let bytes = this.termDf.byteLength + this.lengths.byteLength + this.total.byteLength * 2 + this.mark.byteLength;
    for (const list of this.postings) bytes += list.bytes + 48;
    for (const term of this.terms.names) bytes += term.length * 2 * 2 + 64;
    return bytes;
  }

  get termCount(): number {
    return this.terms.size;
  }
}

/** First index whose value is >= `value` in a sorted array. */
function lowerBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
