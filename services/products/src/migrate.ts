// Process entry of `shop migrate`: applies the products service's pending migration files, prints them, exits.
import { isConfigError, loadConfig, url } from "@shop/platform";
import { createDatabase } from "./store/database.js";
import { runMigrations } from "./store/migrator.js";

try {
  const config = loadConfig({
    SHOP_DATABASE_URL: url("postgres://postgres@127.0.0.1:5432/test", ["postgres:", "postgresql:"]),
  });
  const database = createDatabase(config.SHOP_DATABASE_URL, { poolSize: 1 });
  try {
    const applied = await runMigrations(database.pool);
    process.stdout.write(
      applied.length > 0 ? `products: applied ${applied.join(", ")}\n` : "products: database schema is up to date\n",
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
