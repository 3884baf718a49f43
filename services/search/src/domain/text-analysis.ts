// The embedded index's analyzer, written to behave like the OpenSearch analyzer in store/opensearch (standard
// tokenizer, lowercase, asciifolding, minimal_english stemmer), so both backends match the same words.

const combiningMarks = /[\u0300-\u036f]/g;
const wordPattern = /[\p{L}\p{N}]+/gu;

/** Lower case without accents: "Crème" → "creme". Also the sort key of titles. */
export function foldText(text: string): string {
  return text.normalize("NFD").replace(combiningMarks, "").toLowerCase();
}

/** The words of a text, folded, in order; what a query is split into before each word is matched on its own. */
export function tokenize(text: string): string[] {
  return foldText(text).match(wordPattern) ?? [];
}

/**
 * The "S" stemmer (plural endings only), the same rules as OpenSearch's `minimal_english` filter: "mugs" → "mug",
 * "cherries" → "cherry", "glasses" → "glasse". Light on purpose: product words rarely need more, and a heavy stemmer
 * merges words shoppers tell apart.
 */
export function stem(word: string): string {
  const n = word.length;
  if (n < 3 || word[n - 1] !== "s") return word;
  const beforeS = word[n - 2];
  if (beforeS === "u" || beforeS === "s") return word;
  if (beforeS === "e") {
    const third = word[n - 3];
    if (n > 3 && third === "i" && word[n - 4] !== "a" && word[n - 4] !== "e") return `${word.slice(0, n - 3)}y`;
    if (third === "i" || third === "a" || third === "o" || third === "e") return word;
  }
  return word.slice(0, n - 1);
}

/** Indexed terms of a field: tokenized and stemmed. */
export function analyze(text: string): string[] {
  return tokenize(text).map(stem);
}
