export type { ProductsConfig } from "./config.js";
export { loadProductsConfig, productsConfigSpec } from "./config.js";
export type { ProductsServiceOptions } from "./service.js";
export { createProductsService } from "./service.js";
export type { CatalogDatabase, Database } from "./store/database.js";
export { createDatabase } from "./store/database.js";
export { migrationFiles, runMigrations } from "./store/migrator.js";
export type { PostgresOutboxSource, PostgresOutboxSourceOptions } from "./store/outbox-source.js";
export { createOutboxSource } from "./store/outbox-source.js";
