import type { JsonObject } from "@bufbuild/protobuf";
import {
  type ColumnType,
  type Generated,
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type Transaction,
} from "kysely";
import pg from "pg";

/** Postgres int8: read as a string by `pg` (it may exceed 2^53), written from any integer form. */
type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
type Timestamp = ColumnType<Date, Date, Date>;
/** jsonb holding a message's protobuf JSON; written as its JSON text. */
type JsonDoc = ColumnType<JsonObject, string, string>;

export interface ProductsTable {
  id: string;
  seq: Generated<string>;
  status: string;
  revision: Int8;
  doc: JsonDoc;
  create_time: Timestamp;
  update_time: Timestamp;
}

export interface ProductSkusTable {
  sku: string;
  product_id: string;
}

export interface CollectionsTable {
  id: string;
  seq: Generated<string>;
  handle: string;
  archived: boolean;
  revision: Int8;
  doc: JsonDoc;
  create_time: Timestamp;
  update_time: Timestamp;
}

export interface CollectionProductsTable {
  collection_id: string;
  product_id: string;
}

export interface StockLevelsTable {
  sku: string;
  product_id: string;
  quantity: Int8;
  version: Int8;
  update_time: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  display_name: string;
  role: number;
  secret_sha256: string;
  create_time: Timestamp;
  create_actor: string;
  revoke_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface IdempotencyKeysTable {
  actor: string;
  operation: string;
  request_id: string;
  resource_id: string;
  create_time: Generated<Date>;
}

export interface OutboxTable {
  id: Generated<string>;
  event_id: string;
  aggregate_id: string;
  aggregate_version: Int8;
  subject: string;
  type_name: string;
  data: Uint8Array;
  create_time: Generated<Date>;
  publish_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** The products service's schema, as kysely sees it. */
export interface Database {
  products: ProductsTable;
  product_skus: ProductSkusTable;
  collections: CollectionsTable;
  collection_products: CollectionProductsTable;
  stock_levels: StockLevelsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  outbox: OutboxTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

/** The pool and the kysely instance over it; the relay borrows raw connections from the same pool. */
export interface CatalogDatabase {
  db: Db;
  pool: pg.Pool;
  /** Closes the pool once; later calls are no-ops. */
  close(): Promise<void>;
}

const preparedName = /^\/\* prepared as ([a-z0-9_]+) \*\//;

/**
 * The pool as kysely sees it, except that a statement starting with `/* prepared as <name> *\/` goes out as a named
 * prepared statement: each connection parses and plans it once instead of on every call, which is most of the
 * database's work for a large statement. Only for statements whose text never changes (values as parameters).
 */
function preparingPool(pool: pg.Pool): PostgresPool {
  // One wrapper per pg client: kysely keeps its connection objects by client identity.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => ({
    query: ((text: string | pg.Submittable, values: unknown[] = []) => {
      // A cursor (a streamed query) passes through as it is.
      if (typeof text !== "string") return client.query(text);
      const name = preparedName.exec(text)?.[1];
      return client.query(name === undefined ? { text, values } : { name, text, values });
    }) as unknown as PostgresPoolClient["query"],
    release: (destroy) => client.release(destroy),
  });
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

/** Connects lazily: nothing is dialled until the first query. `poolSize` defaults to 10. */
export function createDatabase(connectionString: string, options: { poolSize?: number } = {}): CatalogDatabase {
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10 });
  // An idle client losing its connection (database restart) must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  let closing: Promise<void> | undefined;
  return {
    db,
    pool,
    close() {
      closing ??= db.destroy();
      return closing;
    },
  };
}
