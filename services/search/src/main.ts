// Process entry of the search service: config → platform → search → serve → graceful shutdown on signals.
import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadSearchConfig } from "./config.js";
import { createSearch } from "./search.js";

const config = loadConfigOrExit("search", loadSearchConfig);
const platform = await createPlatform("search", config);
const search = await createSearch(platform, config);
exitOnSignals(await search.start(), platform.logger);
