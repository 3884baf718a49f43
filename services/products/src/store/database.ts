import { randomBytes } from "node:crypto";
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
  /** The creating seller's API key id, '' for operators (migration 0003); the doc's sellerId, queryable. */
  seller_id: ColumnType<string, string | undefined, never>;
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
  /** The schema holding the tables (see `catalogLocation`). */
  schema: string;
  /** The URL every connection of this database uses, the schema selected; for connections outside the pool (LISTEN). */
  url: string;
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
  // Each connection names its statements apart: where connections share one session (PGlite behind pglite-socket,
  // `npm start`'s embedded database), a statement prepared by a connection that has since closed is still there, and
  // a new connection preparing the same name would fail.
  const poolId = randomBytes(4).toString("hex");
  let connections = 0;
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const suffix = `_${poolId}_${++connections}`;
    return {
      query: ((text: string | pg.Submittable, values: unknown[] = []) => {
        // A cursor (a streamed query) passes through as it is.
        if (typeof text !== "string") return client.query(text);
        const name = preparedName.exec(text)?.[1];
        return client.query(name === undefined ? { text, values } : { name: `${name}${suffix}`, text, values });
      }) as unknown as PostgresPoolClient["query"],
      release: (destroy) => client.release(destroy),
    };
  };
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

/** An SQL identifier in double quotes, so any schema name is taken literally. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The first schema of a `-c search_path=…` in the URL's `options` parameter, if there is one. */
function selectedSchema(url: URL): string | undefined {
  const match = /(?:^|\s)(?:-c\s*|--)search_path=(\S+)/.exec(url.searchParams.get("options") ?? "");
  const first = match?.[1]?.split(",")[0]?.trim();
  if (!first) return undefined;
  return first.startsWith('"') ? first.slice(1, -1).replace(/""/g, '"') : first;
}

/**
 * Where a deployment keeps its tables: the schema the URL selects (`options=-c search_path=…`), else one named after
 * SHOP_NAMESPACE — so deployments and test runs sharing a database stay apart, as they do on NATS and Redis — else
 * `public`. Returns the URL to connect with (the schema selected) and the schema.
 */
export function catalogLocation(connectionString: string, namespace: string): { url: string; schema: string } {
  const url = new URL(connectionString);
  const selected = selectedSchema(url);
  if (selected !== undefined) return { url: connectionString, schema: selected };
  if (namespace === "") return { url: connectionString, schema: "public" };
  const options = url.searchParams.get("options");
  url.searchParams.set("options", `${options ? `${options} ` : ""}-c search_path=${quoteIdentifier(namespace)}`);
  return { url: url.toString(), schema: namespace };
}

/**
 * Connects lazily: nothing is dialled until the first query. The schema comes from `catalogLocation` (`namespace`
 * defaults to none); `poolSize` defaults to 10.
 */
export function createDatabase(
  connectionString: string,
  options: { poolSize?: number; namespace?: string } = {},
): CatalogDatabase {
  const { url, schema } = catalogLocation(connectionString, options.namespace ?? "");
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client losing its connection (database restart) must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  let closing: Promise<void> | undefined;
  return {
    db,
    pool,
    schema,
    url,
    close() {
      closing ??= db.destroy();
      return closing;
    },
  };
}
