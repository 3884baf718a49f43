import type { Tx } from "./database.js";

export interface RecordedStockLevel {
  sku: string;
  productId: string;
  quantity: bigint;
  /** The SKU's StockLevelSet version after this write: one more than the last, across every product that held it. */
  version: bigint;
}

/**
 * Upserts stock levels in SKU order (so concurrent writers queue rather than deadlock) and returns each SKU's new
 * version. Rows are never deleted: a SKU's version keeps rising even if it moves to another product, so consumers'
 * version gates stay correct.
 */
export async function recordStockLevels(
  trx: Tx,
  levels: Array<{ sku: string; productId: string; quantity: bigint }>,
  now: Date,
): Promise<RecordedStockLevel[]> {
  if (levels.length === 0) return [];
  const sorted = [...levels].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  const rows = await trx
    .insertInto("stock_levels")
    .values(
      sorted.map((level) => ({
        sku: level.sku,
        product_id: level.productId,
        quantity: level.quantity,
        version: 1,
        update_time: now,
      })),
    )
    .onConflict((oc) =>
      oc.column("sku").doUpdateSet((eb) => ({
        quantity: eb.ref("excluded.quantity"),
        product_id: eb.ref("excluded.product_id"),
        version: eb("stock_levels.version", "+", 1),
        update_time: eb.ref("excluded.update_time"),
      })),
    )
    .returning(["sku", "product_id", "quantity", "version"])
    .execute();
  return rows.map((row) => ({
    sku: row.sku,
    productId: row.product_id,
    quantity: BigInt(row.quantity),
    version: BigInt(row.version),
  }));
}
