export type { SearchConfig } from "./config.js";
export { loadSearchConfig } from "./config.js";
export type { IndexWriter, Search, SearchOverrides } from "./search.js";
export { createSearch } from "./search.js";
