import { durationMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { type Logger, principalKey } from "@shop/platform";
import { normalizeLines } from "./domain/reservation-lines.js";
import type { LedgerRebuild } from "./ledger-rebuild.js";
import type { LedgerProgress } from "./store/ledger-progress.js";
import type { OnHandChange, Recorded, StockStore } from "./store/stock-store.js";

export interface InventoryServiceDeps {
  store: StockStore;
  rebuild: LedgerRebuild;
  logger: Logger;
  /** TTL of a hold when the request names none. */
  defaultTtlMs: number;
  /** Tells when a change's events are in the JetStream ledger. */
  ledger: LedgerProgress;
  /** How long an answer waits for the ledger before it is Unavailable (the change stays in the outbox). */
  ledgerTimeoutMs: number;
}

/** The Connect implementation: map requests to store calls and results back. Auth and validation ran already. */
export function createInventoryServiceImpl(deps: InventoryServiceDeps): ServiceImpl<typeof InventoryService> {
  const { store, rebuild, logger } = deps;
  // Redis decides; the caller hears OK only once the change's events are in the ledger, which survives losing Redis.
  const recorded = async <T>(change: Promise<Recorded<T>>): Promise<T> => {
    const { value, mark } = await change;
    await deps.ledger.untilPublished(mark, deps.ledgerTimeoutMs);
    return value;
  };
  return {
    async getStock(req) {
      return { levels: await store.getLevels(req.skus) };
    },

    reserve(req) {
      return recorded(
        store.reserve({
          id: req.reservationId,
          lines: normalizeLines(req.lines),
          ttlMs: req.ttl ? durationMs(req.ttl) : deps.defaultTtlMs,
          reference: req.reference,
        }),
      );
    },

    commit(req) {
      return recorded(store.commit(req.reservationId));
    },

    release(req) {
      return recorded(store.release(req.reservationId, req.reason));
    },

    getReservation(req) {
      return store.getReservation(req.reservationId);
    },

    listReservations(req) {
      return store.listReservations({
        state: req.state === ReservationState.UNSPECIFIED ? ReservationState.HELD : req.state,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
    },

    async adjust(req, context) {
      const change: OnHandChange =
        req.change.case === "setOnHand"
          ? { kind: "set", onHand: req.change.value }
          : { kind: "delta", delta: req.change.value ?? 0n };
      const level = await recorded(store.adjust({ sku: req.sku, change, requestId: req.requestId }));
      // The reason is for people: it goes to the audit log with who asked, next to the resulting level.
      logger.info(
        {
          sku: req.sku,
          change: change.kind === "set" ? `set ${change.onHand}` : `by ${change.delta}`,
          reason: req.reason,
          actor: context.values.get(principalKey).subject,
          onHand: String(level.onHand),
          version: String(level.version),
        },
        "stock adjusted",
      );
      return level;
    },

    async *rebuild(_req, context) {
      logger.warn({ actor: context.values.get(principalKey).subject }, "rebuild requested");
      yield* rebuild.follow(context.signal);
    },
  };
}

/** Registers the inventory's routes on a Connect router. */
export function inventoryRoutes(deps: InventoryServiceDeps): (router: ConnectRouter) => void {
  return (router) => router.service(InventoryService, createInventoryServiceImpl(deps));
}
