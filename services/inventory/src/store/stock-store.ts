import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { PageCursorSchema } from "@shop/contracts/shop/common/v1/audit_pb.js";
import {
  type Reservation,
  ReservationSchema,
  type ReservationState,
  type StockLevel,
} from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { InvalidInputError } from "@shop/platform";
import type { Redis } from "ioredis";
import type { Clock } from "../domain/clock.js";
import { refusals } from "../domain/refusals.js";
import { decodeLines, encodeLines, type HeldLine } from "../domain/reservation-lines.js";
import { stockLevel } from "../domain/stock-level.js";
import { type InventoryKeys, inventoryKeys } from "./inventory-keys.js";
import { defineInventoryScripts, type RunScript } from "./inventory-scripts.js";
import type { LedgerMark } from "./ledger-progress.js";
import { guarded } from "./redis-errors.js";

/** An acknowledged change's result, and the ledger mark its answer waits for (see ledger-progress.ts). */
export interface Recorded<T> {
  value: T;
  mark: LedgerMark;
}

/** An operator's change of on_hand: a new level or a shift. */
export type OnHandChange = { kind: "set"; onHand: bigint } | { kind: "delta"; delta: bigint };

export interface StockStore {
  keys: InventoryKeys;
  /** Holds every line or none; a repeated id answers with the reservation it created. */
  reserve(input: { id: string; lines: HeldLine[]; ttlMs: number; reference: string }): Promise<Recorded<Reservation>>;
  commit(id: string): Promise<Recorded<Reservation>>;
  release(id: string, reason: string): Promise<Recorded<Reservation>>;
  getReservation(id: string): Promise<Reservation>;
  listReservations(query: {
    state: ReservationState;
    pageSize: number;
    pageToken: string;
  }): Promise<{ reservations: Reservation[]; nextPageToken: string }>;
  /** Levels in request order; unknown SKUs are all zeros. */
  getLevels(skus: string[]): Promise<StockLevel[]>;
  adjust(input: { sku: string; change: OnHandChange; requestId: string }): Promise<Recorded<StockLevel>>;
  /** Applies a seller's level if its version is newer than the last applied; `applied` false for stale/duplicates. */
  applySellerLevel(input: {
    sku: string;
    quantity: bigint;
    version: bigint;
  }): Promise<{ applied: boolean; level: StockLevel }>;
  /** Expires due holds and purges old finished reservations, up to `limit` of each. */
  sweep(limit?: number): Promise<{ expired: number; purged: number; more: boolean }>;
  /** Rebuild: restores a SKU unless Redis has that version already; true when written. */
  restoreLevel(level: StockLevel, sellerVersion: bigint): Promise<boolean>;
  /** Rebuild: restores a reservation unless Redis has that version already; true when written. */
  restoreReservation(reservation: Reservation, version: bigint, finishMs: number): Promise<boolean>;
  /** Rebuild: sets `reserved` to the sum of the SKU's open holds; true when it had to change. */
  reconcileReserved(sku: string): Promise<boolean>;
  /** Whether Redis holds the inventory state (false after Redis lost its data, until a rebuild). */
  hasState(): Promise<boolean>;
  /** Declares the state complete: a fresh keyspace, or a rebuild that restored it. */
  markReady(): Promise<void>;
}

export interface StockStoreOptions {
  redis: Redis;
  /** SHOP_REDIS_PREFIX. */
  prefix: string;
  clock: Clock;
  /** How long finished reservations stay readable (idempotent repeats). */
  retentionMs: number;
  /** How long an Adjust request id is remembered. Default 24 h. */
  adjustMemoryMs?: number;
  /** Called when a script finds that Redis lost the state (the ready marker is gone); e.g. starts a rebuild. */
  onStateLost?: () => void;
}

type Reply = Array<string | number | null>;

const defaultPageSize = 100;

function field(pairs: Reply, name: string): string {
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i] === name) return String(pairs[i + 1] ?? "");
  return "";
}

/** A reservation hash (HGETALL pairs) as the contract's message. */
function reservationFromPairs(pairs: Reply): Reservation {
  return create(ReservationSchema, {
    id: field(pairs, "id"),
    state: Number(field(pairs, "state")) as ReservationState,
    lines: decodeLines(field(pairs, "lines")).map((line) => ({ sku: line.sku, quantity: BigInt(line.quantity) })),
    expireTime: timestampFromMs(Number(field(pairs, "expire_ms"))),
    createTime: timestampFromMs(Number(field(pairs, "create_ms"))),
    reference: field(pairs, "reference"),
  });
}

function markFromPairs(pairs: Reply): LedgerMark {
  return { entryId: field(pairs, "ledger_tail"), epoch: field(pairs, "ledger_epoch") };
}

function levelFromReply(sku: string, reply: Reply, offset = 1): StockLevel {
  return stockLevel(sku, BigInt(reply[offset] ?? 0), BigInt(reply[offset + 1] ?? 0), BigInt(reply[offset + 2] ?? 0));
}

function encodePageToken(state: ReservationState, lastMember: string): string {
  const cursor = create(PageCursorSchema, { after: [lastMember], queryFingerprint: `state=${state}` });
  return Buffer.from(toBinary(PageCursorSchema, cursor)).toString("base64url");
}

function decodePageToken(state: ReservationState, token: string): string | undefined {
  if (token === "") return undefined;
  try {
    const cursor = fromBinary(PageCursorSchema, Buffer.from(token, "base64url"));
    const [after] = cursor.after;
    if (cursor.queryFingerprint === `state=${state}` && after && /^\d{15}:[A-Za-z0-9_-]{1,64}$/.test(after)) {
      return after;
    }
  } catch {}
  throw new InvalidInputError("page_token", "not a token from this listing; start again without it");
}

/** Keys and arguments of the reserve script; exported so the benchmark can call the very same script raw. */
export function reserveInvocation(
  keys: InventoryKeys,
  input: { id: string; lines: HeldLine[]; ttlMs: number; reference: string },
  now: number,
): { keys: string[]; args: Array<string | number> } {
  return {
    keys: [
      ...keys.reservationScriptKeys,
      keys.reservation(input.id),
      ...input.lines.map((line) => keys.sku(line.sku)),
      ...input.lines.map((line) => keys.holds(line.sku)),
    ],
    args: [input.id, now, now + input.ttlMs, input.reference, encodeLines(input.lines)],
  };
}

/** The inventory's Redis state: every change is one Lua script, so checks and writes can never interleave. */
export function createStockStore(options: StockStoreOptions): StockStore {
  const { redis, clock, retentionMs } = options;
  const keys = inventoryKeys(options.prefix);
  const run: RunScript = defineInventoryScripts(redis);
  const stateLost = () => {
    options.onStateLost?.();
    return refusals.stateLost();
  };
  const script = async (...args: Parameters<RunScript>) => {
    const reply = (await guarded(run(...args))) as Reply;
    if (reply[0] === "needs_rebuild") throw stateLost();
    return reply;
  };
  const requireState = async () => {
    if ((await guarded(redis.exists(keys.ready))) === 0) throw stateLost();
  };
  const adjustMemoryMs = options.adjustMemoryMs ?? 24 * 3_600_000;

  const settled = (id: string, reply: Reply, refuse: (state: ReservationState) => Error): Recorded<Reservation> => {
    const [status, ...pairs] = reply;
    if (status === "not_found") throw refusals.unknownReservation(id);
    const reservation = reservationFromPairs(pairs);
    if (status === "precondition") throw refuse(reservation.state);
    return { value: reservation, mark: markFromPairs(pairs) };
  };

  return {
    keys,

    async reserve(input) {
      const call = reserveInvocation(keys, input, clock.now());
      const [status, ...rest] = await script("reserve", call.keys, call.args);
      if (status === "exhausted") throw refusals.shortStock(String(rest[0]), Number(rest[1]), Number(rest[2]));
      if (status === "conflict") throw refusals.reservationIdReused(input.id);
      return { value: reservationFromPairs(rest), mark: markFromPairs(rest) };
    },

    async commit(id) {
      const reply = await script(
        "commit",
        [...keys.reservationScriptKeys, keys.reservation(id)],
        [keys.root, clock.now(), retentionMs],
      );
      return settled(id, reply, (state) => refusals.notCommittable(id, state));
    },

    async release(id, reason) {
      const reply = await script(
        "release",
        [...keys.reservationScriptKeys, keys.reservation(id)],
        [keys.root, clock.now(), retentionMs, reason || "released"],
      );
      return settled(id, reply, (state) => refusals.notReleasable(id, state));
    },

    async getReservation(id) {
      const pairs = await guarded(redis.hgetall(keys.reservation(id)));
      if (!pairs.id) await requireState();
      if (!pairs.id) throw refusals.unknownReservation(id);
      return reservationFromPairs(Object.entries(pairs).flat());
    },

    async listReservations({ state, pageSize, pageToken }) {
      const after = decodePageToken(state, pageToken);
      const size = pageSize > 0 ? pageSize : defaultPageSize;
      await requireState();
      const members = await guarded(
        redis.zrangebylex(keys.stateIndex(state), after ? `(${after}` : "-", "+", "LIMIT", 0, size + 1),
      );
      const page = members.slice(0, size);
      const pipeline = redis.pipeline();
      for (const member of page) pipeline.hgetall(keys.reservation(member.slice(16)));
      const results = page.length > 0 ? ((await guarded(pipeline.exec())) ?? []) : [];
      const reservations: Reservation[] = [];
      for (const [err, pairs] of results) {
        const record = pairs as Record<string, string> | null;
        // A reservation purged between the two reads is simply not listed.
        if (!err && record?.id) reservations.push(reservationFromPairs(Object.entries(record).flat()));
      }
      const last = page.at(-1);
      return {
        reservations,
        nextPageToken: members.length > size && last ? encodePageToken(state, last) : "",
      };
    },

    async getLevels(skus) {
      const reply = await script("readLevels", [keys.ready, ...skus.map((sku) => keys.sku(sku))], []);
      return skus.map((sku, i) => levelFromReply(sku, reply, i * 3));
    },

    async adjust({ sku, change, requestId }) {
      const [mode, value] = change.kind === "set" ? ["set", change.onHand] : ["delta", change.delta];
      const reply = await script(
        "adjust",
        [keys.sku(sku), keys.outbox, keys.adjustRequest(requestId || "-"), keys.ready],
        [sku, mode, String(value), clock.now(), requestId, adjustMemoryMs],
      );
      if (reply[0] === "below_reserved") throw refusals.belowReserved(sku, Number(reply[1]), Number(reply[2]));
      return { value: levelFromReply(sku, reply), mark: { entryId: String(reply[5]), epoch: String(reply[6] ?? "") } };
    },

    async applySellerLevel({ sku, quantity, version }) {
      const reply = await script(
        "sellerLevel",
        [keys.sku(sku), keys.outbox, keys.ready],
        [sku, String(quantity), String(version), clock.now()],
      );
      return { applied: reply[0] === "ok", level: levelFromReply(sku, reply) };
    },

    async sweep(limit = 500) {
      const [expired, purged, more] = await script("sweep", keys.reservationScriptKeys, [
        keys.root,
        clock.now(),
        retentionMs,
        limit,
      ]);
      return { expired: Number(expired), purged: Number(purged), more: more === 1 };
    },

    async restoreLevel(level, sellerVersion) {
      const reply = await guarded(
        run(
          "restoreLevel",
          [keys.sku(level.sku)],
          [String(level.onHand), String(level.reserved), String(level.version), String(sellerVersion)],
        ),
      );
      return reply === 1;
    },

    async restoreReservation(reservation, version, finishMs) {
      const lines = reservation.lines.map((line) => ({ sku: line.sku, quantity: Number(line.quantity) }));
      const ms = (t: typeof reservation.expireTime) => (t ? timestampMs(t) : 0);
      const reply = await guarded(
        run(
          "restoreReservation",
          [...keys.reservationScriptKeys, keys.reservation(reservation.id)],
          [
            keys.root,
            reservation.id,
            reservation.state,
            encodeLines(lines),
            ms(reservation.expireTime),
            ms(reservation.createTime),
            reservation.reference,
            String(version),
            finishMs,
            retentionMs,
          ],
        ),
      );
      return reply === 1;
    },

    async reconcileReserved(sku) {
      const reply = await script(
        "reconcileReserved",
        [keys.sku(sku), keys.holds(sku), keys.outbox],
        [sku, clock.now()],
      );
      return reply[0] === 1;
    },

    async hasState() {
      return (await guarded(redis.exists(keys.ready))) === 1;
    },

    async markReady() {
      // A new value each time: ledger marks taken before Redis lost its data must never match the restored state.
      await guarded(redis.set(keys.ready, `${clock.now()}:${randomUUID()}`));
    },
  };
}
