import { Numbering } from "../../domain/numbering.js";
import { analyze, stem } from "../../domain/text-analysis.js";
import { boundedEditDistance } from "./edit-distance.js";
import { PostingList } from "./posting-list.js";
import { countBits, intersectInto, setBit, setSlots } from "./slot-bits.js";

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
  /** BM25 weight of each field per term (see fieldWeights). */
  fieldWeights: Float64Array[];
  cost: number;
}

/**
 * A query's words, each with the terms it stands for, cheapest first (the order scores are summed in), and the
 * length norms of the moment: made once per query, then used to match and to score.
 */
export interface TextPlan {
  words: Expansion[];
  norms: Float64Array;
}

/** Field lengths whose scores for a term frequency of 1 are tabled per term and query (see scoreTermPostings). */
const tabledLengths = 128;

/** BM25 score of one field: weight · tf · (k1 + 1) / (tf + k1 · (1 − b + b · length / average)). */
function fieldScore(weights: Float64Array, norms: Float64Array, field: number, tf: number, length: number): number {
  const norm = (norms[field * 2] as number) * length + (norms[field * 2 + 1] as number);
  return ((weights[field] as number) * tf * (k1 + 1)) / (tf + norm);
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

  /** Scratch of `index`, reused so that indexing a document allocates nothing per term. */
  private readonly docTerms: number[] = [];
  private readonly docTermAt = new Map<number, number>();
  private docFrequencies = new Uint8Array(64 * fieldCount);

  private lengths = new Uint16Array(0);
  private readonly totalLength = new Float64Array(fieldCount);
  private docCount = 0;

  /**
   * Per-slot scratch, reused by every query (searches run synchronously, one at a time): the scores `scoreInto`
   * leaves for the query's matches, and each word's best so far while it scores.
   */
  private total = new Float64Array(0);
  private wordScore = new Float64Array(0);
  private readonly onceTable = new Float64Array(fieldCount * tabledLengths);

  /** Room for `capacity` slots (at least the slots in use). */
  resize(capacity: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint16Array>(old: T, make: (n: number) => T, width = 1) => {
      const next = make(capacity * width);
      next.set(old.subarray(0, next.length));
      return next;
    };
    this.total = grow(this.total, (n) => new Float64Array(n));
    this.wordScore = grow(this.wordScore, (n) => new Float64Array(n));
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
    // The document's distinct terms in order of appearance, with their frequencies per field in the scratch arrays.
    const { docTerms, docTermAt } = this;
    docTerms.length = 0;
    docTermAt.clear();
    for (let field = 0; field < fieldCount; field++) {
      const words = analyze(fields[field] as string);
      this.lengths[slot * fieldCount + field] = Math.min(words.length, 65_535);
      this.totalLength[field] = (this.totalLength[field] as number) + words.length;
      for (const word of words) {
        const id = this.internTerm(word);
        let at = docTermAt.get(id);
        if (at === undefined) {
          at = docTerms.length;
          docTermAt.set(id, at);
          docTerms.push(id);
          if ((at + 1) * fieldCount > this.docFrequencies.length) {
            const grown = new Uint8Array(this.docFrequencies.length * 2);
            grown.set(this.docFrequencies);
            this.docFrequencies = grown;
          }
          this.docFrequencies.fill(0, at * fieldCount, (at + 1) * fieldCount);
        }
        const i = at * fieldCount + field;
        if ((this.docFrequencies[i] as number) < 255) this.docFrequencies[i] = (this.docFrequencies[i] as number) + 1;
      }
    }
    const frequencies = this.docFrequencies;
    for (let at = 0; at < docTerms.length; at++) {
      const id = docTerms[at] as number;
      this.postings[id]?.add(slot, frequencies, at * fieldCount);
      for (let field = 0; field < fieldCount; field++)
        if (frequencies[at * fieldCount + field])
          this.termDf[id * fieldCount + field] = (this.termDf[id * fieldCount + field] as number) + 1;
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
    const prefixOnly = termIds.map((id) => !wholeWords.has(id));
    return {
      termIds,
      weights: termIds.map((id) => weights.get(id) as number),
      prefixOnly,
      fieldWeights: termIds.map((id, k) => this.fieldWeights(id, prefixOnly[k])),
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
      const score = fieldScore(weights, norms, field, tf, this.lengths[slot * fieldCount + field] as number);
      sum += score;
      if (score > best) best = score;
    }
    return best + tieBreaker * (sum - best);
  }

  /**
   * The query's words with the terms each stands for, cheapest first; undefined when some word matches no term (then
   * nothing matches: words are ANDed).
   */
  plan(rawWords: readonly string[]): TextPlan | undefined {
    const words = [...new Set(rawWords)].slice(0, maxWords).map((word) => this.expand(word));
    if (words.length === 0 || words.some((word) => word.termIds.length === 0)) return undefined;
    words.sort((x, y) => x.cost - y.cost);
    return { words, norms: this.lengthNorms() };
  }

  /**
   * Sets `into` (a bitset of `bitWords` words) to the documents containing every word, each exactly, as a prefix or
   * with allowed typos, in any field; `spare` is scratch of the same size. The cheapest word fixes the candidates;
   * each later word either adds its postings to `spare` for an AND or, when the candidates are few next to its
   * postings, looks each candidate up.
   */
  matchInto(plan: TextPlan, into: Uint32Array, spare: Uint32Array, bitWords: number): void {
    into.fill(0, 0, bitWords);
    plan.words.forEach((word, round) => {
      if (round === 0) {
        this.addWordSlots(word, into);
        return;
      }
      if (countBits(into, bitWords) * word.termIds.length * 16 < word.cost) {
        for (let w = 0; w < bitWords; w++) {
          let rest = into[w] as number;
          while (rest !== 0) {
            const lowest = rest & -rest;
            rest ^= lowest;
            if (!this.hasWord(word, (w << 5) | (31 - Math.clz32(lowest)))) into[w] = (into[w] as number) & ~lowest;
          }
        }
        return;
      }
      spare.fill(0, 0, bitWords);
      this.addWordSlots(word, spare);
      intersectInto(into, spare, bitWords);
    });
  }

  /**
   * Whether a posting counts as a match of its word: any posting of a whole word or typo; for a term reached only as
   * a prefix, one in the title or tags (as-you-type matching is for names, and scores nothing in the description).
   */
  private static counts(list: PostingList, at: number, prefixOnly: boolean): boolean {
    return !prefixOnly || (list.payload[at * fieldCount] as number) + (list.payload[at * fieldCount + 1] as number) > 0;
  }

  private addWordSlots(word: Expansion, into: Uint32Array): void {
    word.termIds.forEach((id, k) => {
      const list = this.postings[id] as PostingList;
      if (!word.prefixOnly[k]) {
        setSlots(into, list.slots, list.size);
        return;
      }
      for (let at = 0; at < list.size; at++)
        if (TextIndex.counts(list, at, true)) setBit(into, list.slots[at] as number);
    });
  }

  private hasWord(word: Expansion, slot: number): boolean {
    for (let k = 0; k < word.termIds.length; k++) {
      const list = this.postings[word.termIds[k] as number] as PostingList;
      const at = list.indexOf(slot);
      if (at >= 0 && TextIndex.counts(list, at, word.prefixOnly[k] as boolean)) return true;
    }
    return false;
  }

  /** The word's score in one document: the best of its terms; 0 when the document does not contain it. */
  private wordScoreOf(word: Expansion, slot: number, norms: Float64Array): number {
    let best = 0;
    for (let k = 0; k < word.termIds.length; k++) {
      const list = this.postings[word.termIds[k] as number] as PostingList;
      const at = list.indexOf(slot);
      if (at < 0) continue;
      const score =
        (word.weights[k] as number) * this.scorePosting(list, at, slot, word.fieldWeights[k] as Float64Array, norms);
      if (score > best) best = score;
    }
    return best;
  }

  /**
   * Scores the `count` documents of `match` (all of which contain every word): per word the best of its terms,
   * summed over words; read them with `scoreOf`. Each word walks its postings, or looks the documents up when they
   * are few next to its postings.
   */
  scoreInto(plan: TextPlan, match: Uint32Array, bitWords: number, count: number): void {
    const { total, wordScore } = this;
    const { norms } = plan;
    plan.words.forEach((word, round) => {
      const lookUp = count * word.termIds.length * 16 < word.cost;
      if (!lookUp) {
        word.termIds.forEach((id, k) => {
          const list = this.postings[id] as PostingList;
          this.scoreTermPostings(list, word.weights[k] as number, word.fieldWeights[k] as Float64Array, norms, match);
        });
      }
      for (let w = 0; w < bitWords; w++) {
        let rest = match[w] as number;
        while (rest !== 0) {
          const lowest = rest & -rest;
          rest ^= lowest;
          const slot = (w << 5) | (31 - Math.clz32(lowest));
          let best: number;
          if (lookUp) best = this.wordScoreOf(word, slot, norms);
          else {
            best = wordScore[slot] as number;
            wordScore[slot] = 0;
          }
          total[slot] = round === 0 ? best : (total[slot] as number) + best;
        }
      }
    });
  }

  /**
   * Adds the scores of one term's postings among `match` to `wordScore`, keeping each document's best. Most postings
   * hold the term once in a short field, so the field scores for a frequency of 1 are looked up by length instead of
   * divided out (the same arithmetic, so the same numbers).
   */
  private scoreTermPostings(
    list: PostingList,
    weight: number,
    weights: Float64Array,
    norms: Float64Array,
    match: Uint32Array,
  ): void {
    const table = this.onceTable;
    for (let field = 0; field < fieldCount; field++)
      for (let length = 0; length < tabledLengths; length++)
        table[field * tabledLengths + length] = fieldScore(weights, norms, field, 1, length);
    const { slots, payload, size } = list;
    const { lengths, wordScore } = this;
    for (let at = 0; at < size; at++) {
      const slot = slots[at] as number;
      if ((((match[slot >>> 5] as number) >>> (slot & 31)) & 1) === 0) continue;
      let best = 0;
      let sum = 0;
      for (let field = 0; field < fieldCount; field++) {
        const tf = payload[at * fieldCount + field] as number;
        if (tf === 0) continue;
        const length = lengths[slot * fieldCount + field] as number;
        const score =
          tf === 1 && length < tabledLengths
            ? (table[field * tabledLengths + length] as number)
            : fieldScore(weights, norms, field, tf, length);
        sum += score;
        if (score > best) best = score;
      }
      const score = weight * (best + tieBreaker * (sum - best));
      if (score > (wordScore[slot] as number)) wordScore[slot] = score;
    }
  }

  /** A document's score from the last `scoreInto`. */
  scoreOf(slot: number): number {
    return this.total[slot] as number;
  }

  /** Scores by slot from the last `scoreInto` (valid for the slots it scored). */
  get scores(): Float64Array {
    return this.total;
  }

  /** One document's score for the plan, or undefined when it does not contain every word. */
  scoreOne(plan: TextPlan, slot: number): number | undefined {
    let total = 0;
    for (const word of plan.words) {
      const best = this.wordScoreOf(word, slot, plan.norms);
      if (best === 0) return undefined;
      total += best;
    }
    return total;
  }

  /** Gives back the room postings keep for growth. */
  trim(): void {
    for (const list of this.postings) list.trim();
  }

  /** Bytes held by postings, lengths and the dictionary, for the benchmark's memory figure. */
  get bytes(): number {
    let bytes = this.termDf.byteLength + this.lengths.byteLength + this.total.byteLength * 2;
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
