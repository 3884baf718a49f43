import { type RebuildProgress, RebuildProgressSchema } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { messageJson, type OutputOptions, printJson } from "./output.js";
import { createProgress } from "./progress.js";

/** `shop inventory …`: operations on the inventory service as a whole. */
export function registerInventory(program: Command): void {
  const inventory = program.command("inventory").description("operate the inventory service");

  inventory
    .command("rebuild")
    .description(
      "restore the inventory's Redis state from the JetStream ledger (after Redis lost its data); joins a rebuild that is already running",
    )
    .option("--json", "print the final report as JSON")
    .action(async (options: OutputOptions) => {
      const { client } = await createCliContext();
      let progress: ReturnType<typeof createProgress> | undefined;
      let last: RebuildProgress | undefined;
      for await (const report of client.inventory.rebuild({})) {
        last = report;
        if (options.json) continue;
        progress ??= createProgress("rebuild", Number(report.eventsTotal) || undefined);
        progress.update(
          Number(report.eventsRead),
          `skus ${report.skusRestored} reservations ${report.reservationsRestored}`,
        );
      }
      if (options.json) {
        if (last) printJson(messageJson(RebuildProgressSchema, last));
        return;
      }
      progress?.finish(
        last?.done
          ? `rebuilt: ${last.eventsRead} ledger events read, ${last.skusRestored} SKUs and ${last.reservationsRestored} reservations restored`
          : "rebuild ended before it was done; run it again",
      );
    });
}
