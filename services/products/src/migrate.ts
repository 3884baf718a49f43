// Process entry of `shop migrate`: applies the products service's pending migration files, prints them, exits.
import { isConfigError, loadConfig } from "@shop/platform";
import { productsConfigSpec } from "./config.js";
import { createDatabase } from "./store/database.js";
import { runMigrations } from "./store/migrator.js";

try {
  // The same schema the service uses: the URL's, else the namespace's (SHOP_NAMESPACE).
  const config = loadConfig({
    SHOP_DATABASE_URL: productsConfigSpec.SHOP_DATABASE_URL,
    SHOP_NAMESPACE: productsConfigSpec.SHOP_NAMESPACE,
  });
  const database = createDatabase(config.SHOP_DATABASE_URL, { poolSize: 1, namespace: config.SHOP_NAMESPACE });
  try {
    const applied = await runMigrations(database);
    process.stdout.write(
      applied.length > 0
        ? `products: applied ${applied.join(", ")} in schema ${database.schema}\n`
        : `products: database schema ${database.schema} is up to date\n`,
    );
  } finally {
    await database.close();
  }
} catch (err) {
  process.stderr.write(
    `products: ${isConfigError(err) ? err.message : `migration failed: ${(err as Error).message}`}\n`,
  );
  process.exitCode = 1;
}
