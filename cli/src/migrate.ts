import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Command } from "commander";
import { UsageError } from "./cli-errors.js";

/** Services whose databases have migration files, in the order they are migrated. */
const migratingServices = ["@shop/products"];

/**
 * Where a service's migrate program is. The CLI never links service code: it runs the service's own `migrate` entry
 * as a separate process, the way a deployment would run it as a job, so this only works from a Shop checkout.
 */
function migrateEntry(service: string): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(`${service}/migrate`);
  } catch {
    return undefined;
  }
}

function run(entry: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry], { env, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

/** `shop migrate`: applies pending migration files (services also do it when they start). */
export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations of the services (idempotent; services also migrate on start)")
    .option("--database-url <url>", "PostgreSQL URL (default: SHOP_DATABASE_URL, else the local server)")
    .action(async (options: { databaseUrl?: string }) => {
      const env = { ...process.env };
      if (options.databaseUrl) env.SHOP_DATABASE_URL = options.databaseUrl;
      const entries = migratingServices.map((service) => [service, migrateEntry(service)] as const);
      if (entries.every(([, entry]) => entry === undefined)) {
        throw new UsageError("`shop migrate` runs from a Shop checkout (npx shop migrate); no service was found here");
      }
      for (const [service, entry] of entries) {
        if (entry === undefined) continue;
        if ((await run(entry, env)) !== 0) {
          throw new ConnectError(
            `${service} migration failed (see above); fix it and run shop migrate again`,
            Code.Internal,
          );
        }
      }
    });
}
