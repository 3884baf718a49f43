import type { StockLevel } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { StockLevelSchema } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import type { StockLevelEntry } from "@shop/contracts/shop/products/v1/product_pb.js";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { type Column, messageJson, type OutputOptions, printRows } from "./output.js";

const liveColumns: Column<StockLevel>[] = [
  { header: "SKU", value: (level) => level.sku },
  { header: "ON HAND", value: (level) => String(level.onHand), align: "right" },
  { header: "RESERVED", value: (level) => String(level.reserved), align: "right" },
  { header: "AVAILABLE", value: (level) => String(level.available), align: "right" },
  { header: "VERSION", value: (level) => String(level.version), align: "right" },
];

const sellerColumns: Column<StockLevelEntry>[] = [
  { header: "SKU", value: (level) => level.sku },
  { header: "SELLER LEVEL", value: (level) => String(level.quantity), align: "right" },
];

const sellerJson = (level: StockLevelEntry) => ({ sku: level.sku, quantity: String(level.quantity) });

/** A whole number, optionally signed (`-3`), as the proto's int64. */
function wholeNumber(text: string, what: string, signed = false): bigint {
  if (!(signed ? /^[+-]?\d+$/ : /^\d+$/).test(text)) {
    throw new UsageError(`${what} "${text}" must be a ${signed ? "whole number such as 5 or -3" : "whole number"}`);
  }
  return BigInt(text);
}

/** `set SKU QTY` or any number of `SKU=QTY` pairs. */
function sellerLevels(args: string[]): Array<{ sku: string; quantity: bigint }> {
  const [first, second] = args;
  if (args.length === 2 && first && second && !first.includes("=") && !second.includes("=")) {
    return [{ sku: first, quantity: wholeNumber(second, `quantity of ${first}`) }];
  }
  return args.map((pair) => {
    const at = pair.lastIndexOf("=");
    if (at <= 0) throw new UsageError(`"${pair}" must look like SKU=QUANTITY (or use: shop stock set SKU QUANTITY)`);
    const sku = pair.slice(0, at);
    return { sku, quantity: wholeNumber(pair.slice(at + 1), `quantity of ${sku}`) };
  });
}

/** `shop stock …`: live levels from the inventory, the seller's levels, and operator adjustments. */
export function registerStock(program: Command): void {
  const stock = program
    .command("stock")
    .description("read live stock, set the seller's levels and adjust on-hand counts per SKU");

  stock
    .command("get <skus...>")
    .description("show live levels from the inventory: on hand, reserved by open checkouts, available to sell")
    .option("--seller", "show the seller's levels as stored by the catalog instead")
    .option("--json", "print JSON")
    .action(async (skus: string[], options: OutputOptions & { seller?: boolean }) => {
      const { client } = await createCliContext();
      if (options.seller) {
        const { levels } = await client.products.getStockLevels({ skus });
        printRows(options, levels, sellerColumns, sellerJson);
        const unknown = skus.filter((sku) => !levels.some((level) => level.sku === sku));
        if (unknown.length > 0) process.stderr.write(`no product has SKU ${unknown.join(", ")}\n`);
        return;
      }
      const { levels } = await client.inventory.getStock({ skus });
      printRows(options, levels, liveColumns, (level) => messageJson(StockLevelSchema, level));
    });

  stock
    .command("set <levels...>")
    .description("set the seller's stock level (it becomes on-hand in the inventory): shop stock set MUG-1 40")
    .addHelpText("after", "\nSeveral at once: shop stock set MUG-1=40 MUG-2=12")
    .option("--request-id <id>", "idempotency key: repeating the command with it changes nothing")
    .option("--json", "print JSON")
    .action(async (args: string[], options: OutputOptions & { requestId?: string }) => {
      const levels = sellerLevels(args);
      const { client } = await createCliContext();
      const response = await client.products.setStock({ levels, requestId: options.requestId ?? "" });
      printRows(options, response.levels, sellerColumns, sellerJson);
      if (!options.json) process.stderr.write("the inventory applies it within moments: see `shop stock get`\n");
    });

  stock
    .command("adjust <sku>")
    .description("change on-hand by hand (operators): --by 5, --by -2 or --set 40; never below what is reserved")
    .option("--by <n>", "shift on-hand by n units (negative removes)")
    .option("--set <n>", "set on-hand to n units")
    .requiredOption("--reason <text>", "why, for the audit log (e.g. 'damaged in storage')")
    .option("--request-id <id>", "idempotency key: repeating the command with it changes nothing")
    .option("--json", "print JSON")
    .action(
      async (
        sku: string,
        options: OutputOptions & { by?: string; set?: string; reason: string; requestId?: string },
      ) => {
        if ((options.by === undefined) === (options.set === undefined)) {
          throw new UsageError("give exactly one of --by N or --set N");
        }
        const change =
          options.by !== undefined
            ? { case: "delta" as const, value: wholeNumber(options.by, "--by", true) }
            : { case: "setOnHand" as const, value: wholeNumber(options.set ?? "", "--set") };
        const { client } = await createCliContext();
        const level = await client.inventory.adjust({
          sku,
          change,
          reason: options.reason,
          requestId: options.requestId ?? "",
        });
        printRows(options, [level], liveColumns, (l) => messageJson(StockLevelSchema, l));
      },
    );
}
