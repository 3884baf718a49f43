// Process entry of the products service: config → platform → products → serve → graceful shutdown on signals.
import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadProductsConfig } from "./config.js";
import { createProducts } from "./products.js";

const config = loadConfigOrExit("products", loadProductsConfig);
const platform = await createPlatform("products", config);
const products = await createProducts(platform, config);
exitOnSignals(await products.start(), platform.logger);
