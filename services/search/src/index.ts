export type { SearchConfig } from "./config.js";
export { loadSearchConfig } from "./config.js";
export type { Search, SearchOverrides } from "./search.js";
export { createSearch } from "./search.js";
