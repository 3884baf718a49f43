import type { Db } from "./database.js";

/** What every store needs: the database, the NATS namespace events are addressed in, and the clock. */
export interface StoreDeps {
  db: Db;
  namespace: string;
  /** Injected so tests control time. */
  clock: () => Date;
}

/** Who asked, for idempotency keys, and the request id that ties emitted events to the request. */
export interface Caller {
  actor: string;
  correlationId: string;
  /** The caller's API key id when a seller calls, else empty: recorded as the owner of products it creates. */
  sellerId: string;
}
