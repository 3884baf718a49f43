import type { EncodedEvent } from "@shop/platform";
import { sql } from "kysely";
import type { Db } from "./database.js";

/** SQLSTATE raised by `abandon_statement()` (migration 0002). */
const abandoned = "SH001";

/** Everything one create batch writes, prepared by the caller in the order the transaction would write it. */
export interface ProductBatchRows {
  actor: string;
  now: Date;
  products: Array<{ id: string; status: string; revision: bigint; doc: string; sellerId: string; requestId: string }>;
  /** SKU claims, distinct and in SKU order (the order they are written and locked in). */
  skus: Array<{ sku: string; productId: string }>;
  /** Initial stock levels in SKU order, written at version 1. */
  stock: Array<{ sku: string; productId: string; quantity: bigint }>;
  /** Outbox rows in id order; stock events carry version 1. */
  events: EncodedEvent[];
}

/**
 * Writes a create batch in one statement — SKU claims, products, stock levels, outbox rows, idempotency keys — so the
 * common case costs one round trip and one (implicit) transaction instead of five or more. It is the same write as the
 * item-by-item transaction, not a second set of rules: when that transaction would have had anything to report (a
 * request id answered before or meanwhile, a SKU already taken, a SKU with an earlier stock level so its version is
 * not 1), the statement abandons itself, leaves nothing behind, and this returns false so the caller runs that
 * transaction.
 * Rows are written in the order given (`with ordinality`), as the transaction writes them.
 */
export async function createProductsInOneStatement(db: Db, rows: ProductBatchRows): Promise<boolean> {
  const { skus, stock, events } = rows;
  const keys = rows.products.filter((product) => product.requestId !== "");
  try {
    await sql`/* prepared as create_products */
      with answered as (
        -- One index probe per request id (lateral + limit), whatever the statistics say when the plan is cached.
        select 1 from unnest(${keys.map((p) => p.requestId)}::text[]) as r (request_id)
         cross join lateral (
           select from idempotency_keys k
            where k.actor = ${rows.actor} and k.operation = 'CreateProduct' and k.request_id = r.request_id
            limit 1
         ) as earlier
      ), claimed as (
        insert into product_skus (sku, product_id)
        select sku, product_id
          from unnest(${skus.map((s) => s.sku)}::text[], ${skus.map((s) => s.productId)}::text[])
               with ordinality as c (sku, product_id, n)
         order by n
        on conflict (sku) do nothing
        returning 1
      ), created as (
        insert into products (id, status, revision, doc, seller_id, create_time, update_time)
        select id, status, revision, doc::jsonb, seller_id, ${rows.now}::timestamptz, ${rows.now}::timestamptz
          from unnest(
            ${rows.products.map((p) => p.id)}::text[], ${rows.products.map((p) => p.status)}::text[],
            ${rows.products.map((p) => p.revision)}::int8[], ${rows.products.map((p) => p.doc)}::text[],
            ${rows.products.map((p) => p.sellerId)}::text[]
          ) with ordinality as p (id, status, revision, doc, seller_id, n)
         order by n
      ), stocked as (
        insert into stock_levels (sku, product_id, quantity, version, update_time)
        select sku, product_id, quantity, 1, ${rows.now}::timestamptz
          from unnest(
            ${stock.map((s) => s.sku)}::text[], ${stock.map((s) => s.productId)}::text[],
            ${stock.map((s) => s.quantity)}::int8[]
          ) with ordinality as s (sku, product_id, quantity, n)
         order by n
        on conflict (sku) do update set quantity = excluded.quantity, product_id = excluded.product_id,
          version = stock_levels.version + 1, update_time = excluded.update_time
        returning version
      ), written as (
        insert into outbox (event_id, aggregate_id, aggregate_version, subject, type_name, data)
        select event_id, aggregate_id, aggregate_version, subject, type_name, data
          from unnest(
            ${events.map((e) => e.eventId)}::text[], ${events.map((e) => e.aggregateId)}::text[],
            ${events.map((e) => e.aggregateVersion)}::int8[], ${events.map((e) => e.subject)}::text[],
            ${events.map((e) => e.typeName)}::text[], ${events.map((e) => e.data)}::bytea[]
          ) with ordinality as e (event_id, aggregate_id, aggregate_version, subject, type_name, data, n)
         order by n
      ), remembered as (
        insert into idempotency_keys (actor, operation, request_id, resource_id)
        select ${rows.actor}, 'CreateProduct', request_id, resource_id
          from unnest(${keys.map((p) => p.requestId)}::text[], ${keys.map((p) => p.id)}::text[]) as k (request_id, resource_id)
        on conflict do nothing
        returning 1
      )
      select abandon_statement('create batch needs the item-by-item transaction')
       where exists (select from answered)
          or (select count(*) from claimed) < ${skus.length}
          or exists (select from stocked where version <> 1)
          or (select count(*) from remembered) < ${keys.length}`.execute(db);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === abandoned) return false;
    throw err;
  }
}
