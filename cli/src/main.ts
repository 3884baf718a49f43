import { Command, CommanderError } from "commander";
import manifest from "../package.json" with { type: "json" };
import { describeError, exitCode } from "./cli-errors.js";
import { registerCollections } from "./collections.js";
import { registerCompletion } from "./completion.js";
import { registerInventory } from "./inventory.js";
import { registerKeys } from "./keys.js";
import { registerLogin } from "./login.js";
import { registerMigrate } from "./migrate.js";
import { registerOrders } from "./orders.js";
import { registerProducts } from "./products.js";
import { registerReservations } from "./reservations.js";
import { registerSearch } from "./search.js";
import { registerStock } from "./stock.js";

/** Each noun registers its verbs; one file per noun. */
const nouns: Array<(program: Command) => void> = [
  registerLogin,
  registerProducts,
  registerCollections,
  registerStock,
  registerReservations,
  registerInventory,
  registerOrders,
  registerSearch,
  registerKeys,
  registerMigrate,
  registerCompletion,
];

export function createProgram(): Command {
  const program = new Command("shop")
    .description("Shop: manage the catalog, stock and orders of a Shop platform")
    .version(manifest.version)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const register of nouns) register(program);
  return program;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv);
    return exitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? exitCode.ok : exitCode.usage;
    const { message, exit } = describeError(err);
    process.stderr.write(`${message}\n`);
    return exit;
  }
}
