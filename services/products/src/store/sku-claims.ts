import type { Tx } from "./database.js";

/**
 * Claims SKUs for products (catalog-wide uniqueness) and returns the ones already taken, with their owner. Inserts in
 * SKU order so concurrent batches claiming overlapping SKUs queue instead of deadlocking.
 */
export async function claimSkus(
  trx: Tx,
  claims: Array<{ sku: string; productId: string }>,
): Promise<Map<string, { wanted: string; owner: string }>> {
  const conflicts = new Map<string, { wanted: string; owner: string }>();
  if (claims.length === 0) return conflicts;
  const sorted = [...claims].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  const claimed = await trx
    .insertInto("product_skus")
    .values(sorted.map((claim) => ({ sku: claim.sku, product_id: claim.productId })))
    .onConflict((oc) => oc.column("sku").doNothing())
    .returning(["sku", "product_id"])
    .execute();
  const won = new Set(claimed.map((row) => `${row.product_id}\u0000${row.sku}`));
  const lost = sorted.filter((claim) => !won.has(`${claim.productId}\u0000${claim.sku}`));
  if (lost.length === 0) return conflicts;
  const ownerOf = await skuOwners(
    trx,
    lost.map((claim) => claim.sku),
  );
  for (const claim of lost) {
    conflicts.set(`${claim.productId}\u0000${claim.sku}`, {
      wanted: claim.productId,
      owner: ownerOf.get(claim.sku) ?? "",
    });
  }
  return conflicts;
}

/** Gives SKUs back (a failed batch item, or variants removed by an update). */
export async function releaseSkus(trx: Tx, productId: string, skus?: string[]): Promise<void> {
  let query = trx.deleteFrom("product_skus").where("product_id", "=", productId);
  if (skus !== undefined) {
    if (skus.length === 0) return;
    query = query.where("sku", "in", skus);
  }
  await query.execute();
}

/** The product owning each of `skus` that exists. */
export async function skuOwners(trx: Tx, skus: string[]): Promise<Map<string, string>> {
  if (skus.length === 0) return new Map();
  const owners = await trx.selectFrom("product_skus").select(["sku", "product_id"]).where("sku", "in", skus).execute();
  return new Map(owners.map((row) => [row.sku, row.product_id]));
}
