import { readdir, readFile } from "node:fs/promises";
import { type CatalogDatabase, quoteIdentifier } from "./database.js";

const migrationsDir = new URL("./migrations/", import.meta.url);

/** The migration files in apply order: `NNNN_name.sql`. */
export async function migrationFiles(): Promise<string[]> {
  return (await readdir(migrationsDir)).filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name)).sort();
}

/**
 * Creates the database's schema if it is missing and applies pending migration files, in one transaction under an
 * advisory lock, so replicas starting together take turns and the second finds nothing left to do. The lock key is
 * per schema: test schemas on one database do not queue. Returns the names it applied.
 */
export async function runMigrations(database: Pick<CatalogDatabase, "pool" | "schema">): Promise<string[]> {
  const client = await database.pool.connect();
  try {
    await client.query("begin");
    await client.query("select pg_advisory_xact_lock(hashtext($1 || ':products-migrations'))", [database.schema]);
    // `public` is there in every database, and a role allowed to use it may not be allowed to create schemas.
    if (database.schema !== "public")
      await client.query(`create schema if not exists ${quoteIdentifier(database.schema)}`);
    await client.query(
      "create table if not exists schema_migrations (name text primary key, apply_time timestamptz not null default now())",
    );
    const { rows } = await client.query<{ name: string }>("select name from schema_migrations");
    const applied = new Set(rows.map((row) => row.name));
    const pending = (await migrationFiles()).filter((name) => !applied.has(name));
    for (const name of pending) {
      await client.query(await readFile(new URL(name, migrationsDir), "utf8"));
      await client.query("insert into schema_migrations (name) values ($1)", [name]);
    }
    await client.query("commit");
    return pending;
  } catch (err) {
    await client.query("rollback").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
