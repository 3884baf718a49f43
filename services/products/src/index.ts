export type { ProductsConfig } from "./config.js";
export { loadProductsConfig } from "./config.js";
export type { Products, ProductsOverrides } from "./products.js";
export { createProducts } from "./products.js";
