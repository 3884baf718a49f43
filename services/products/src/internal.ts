// What only bench/ and test/ may use of the products service (`@shop/products/internal`); other packages use index.ts.

export type { CatalogDatabase } from "./store/database.js";
export { catalogLocation, createDatabase } from "./store/database.js";
export { migrationFiles, runMigrations } from "./store/migrator.js";
export type { PostgresOutboxSource, PostgresOutboxSourceOptions } from "./store/outbox-source.js";
export { createOutboxSource } from "./store/outbox-source.js";
export type { CreatePath } from "./store/product-store.js";
