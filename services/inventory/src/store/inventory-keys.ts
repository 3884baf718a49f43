/**
 * Redis key layout. Every key is `<prefix>{inventory}:<name>`: the `{inventory}` hash tag puts the whole inventory
 * keyspace of a deployment in ONE Redis Cluster slot.
 *
 * Why one slot: a reservation may name any SKUs, and the scripts must check and change all of them, the reservation,
 * the expiry set and the outbox stream in one atomic step — otherwise "all or nothing" becomes a two-step protocol
 * whose half-done states other buyers can see (and whose compensations can fail). Redis runs a script of a few SKUs in
 * microseconds, so one primary serves far more reservations per second than a shop's checkouts need. To grow past
 * one primary, run several inventory keyspaces (SHOP_REDIS_PREFIX per shard group, e.g. per warehouse) and keep the
 * rule that one reservation's SKUs belong to one group.
 */
export interface InventoryKeys {
  /** `<prefix>{inventory}:`; scripts derive SKU and reservation keys from it inside the same slot. */
  root: string;
  sku(sku: string): string;
  /** Hash of reservation id → units of this SKU it holds; rebuild recomputes `reserved` from it. */
  holds(sku: string): string;
  reservation(id: string): string;
  /** Sorted set: held reservation id → expiry time (ms). Drives the sweeper; survives restarts. */
  expiry: string;
  /** Sorted set: finished reservation id → time it may be deleted. */
  purge: string;
  /** Sorted sets (lexicographic) of reservations per state, for listing: member `<create ms>:<id>`. */
  stateIndex(state: number): string;
  outbox: string;
  outboxLease: string;
  adjustRequest(requestId: string): string;
  /**
   * Present while Redis holds the inventory state. A Redis that lost its data lost this marker too, and the scripts
   * refuse to work on the empty keyspace until a rebuild from the ledger restored it.
   */
  ready: string;
  /** The first eight keys of every reservation script: expiry, purge, outbox, the four state indexes, ready. */
  reservationScriptKeys: string[];
}

export function inventoryKeys(prefix: string): InventoryKeys {
  const root = `${prefix}{inventory}:`;
  const stateIndex = (state: number) => `${root}state:${state}`;
  const expiry = `${root}expiry`;
  const purge = `${root}purge`;
  const outbox = `${root}outbox`;
  const ready = `${root}ready`;
  return {
    root,
    sku: (sku) => `${root}sku:${sku}`,
    holds: (sku) => `${root}holds:${sku}`,
    reservation: (id) => `${root}res:${id}`,
    expiry,
    purge,
    stateIndex,
    outbox,
    outboxLease: `${root}outbox:lease`,
    adjustRequest: (requestId) => `${root}adjust:${requestId}`,
    ready,
    reservationScriptKeys: [expiry, purge, outbox, stateIndex(1), stateIndex(2), stateIndex(3), stateIndex(4), ready],
  };
}
