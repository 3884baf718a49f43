import { create } from "@bufbuild/protobuf";
import { type StockLevelEntry, StockLevelEntrySchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import { InvalidInputError, NotFoundError } from "@shop/platform";
import { createProductEvents } from "../events.js";
import { findAnswered, recordAnswered } from "./idempotency-store.js";
import { appendToOutbox } from "./outbox-writer.js";
import { skuOwners } from "./sku-claims.js";
import { recordStockLevels } from "./stock-levels.js";
import type { Caller, StoreDeps } from "./store-context.js";

export interface StockStore {
  /** Records the seller's levels and emits one StockLevelSet per SKU; inventory applies them. */
  setStock(levels: StockLevelEntry[], requestId: string, caller: Caller): Promise<StockLevelEntry[]>;
  /** Levels of the given SKUs that exist (0 when never set); unknown SKUs are left out. */
  getStockLevels(skus: string[]): Promise<StockLevelEntry[]>;
}

export function createStockStore(deps: StoreDeps): StockStore {
  const { db } = deps;
  return {
    async setStock(levels, requestId, caller) {
      const seen = new Map<string, number>();
      levels.forEach((level, i) => {
        const first = seen.get(level.sku);
        if (first !== undefined)
          throw new InvalidInputError(`levels[${i}].sku`, `"${level.sku}" repeats levels[${first}]`);
        seen.set(level.sku, i);
      });
      const events = createProductEvents(deps.namespace, caller.correlationId);
      return db.transaction().execute(async (trx) => {
        const answered = await findAnswered(trx, caller.actor, "SetStock", [requestId]);
        if (answered.has(requestId)) return levels;
        const ownerOf = await skuOwners(
          trx,
          levels.map((level) => level.sku),
        );
        const unknown = levels.filter((level) => !ownerOf.has(level.sku)).map((level) => `"${level.sku}"`);
        if (unknown.length > 0) {
          throw new NotFoundError(
            `no product has SKU ${unknown.slice(0, 10).join(", ")}${unknown.length > 10 ? " …" : ""}; create the product first`,
          );
        }
        const recorded = await recordStockLevels(
          trx,
          levels.map((level) => ({
            sku: level.sku,
            productId: ownerOf.get(level.sku) as string,
            quantity: level.quantity,
          })),
          deps.clock(),
        );
        await appendToOutbox(
          trx,
          recorded.map((level) => events.stockLevelSet(level)),
        );
        await recordAnswered(trx, caller.actor, "SetStock", [{ requestId, resourceId: "" }]);
        return levels;
      });
    },

    async getStockLevels(skus) {
      const rows = await db
        .selectFrom("product_skus")
        .leftJoin("stock_levels", "stock_levels.sku", "product_skus.sku")
        .select(["product_skus.sku as sku", "stock_levels.quantity as quantity"])
        .where("product_skus.sku", "in", skus)
        .execute();
      const quantityOf = new Map(rows.map((row) => [row.sku, BigInt(row.quantity ?? 0)]));
      return skus
        .filter((sku) => quantityOf.has(sku))
        .map((sku) => create(StockLevelEntrySchema, { sku, quantity: quantityOf.get(sku) }));
    },
  };
}
