import { clone, create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { ReservationChangedSchema, StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { type RebuildProgress, RebuildProgressSchema } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { StockLevelSetSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import {
  decodeEvent,
  eventContract,
  eventSubjectFilter,
  eventTypeHeader,
  type Logger,
  namespacedStream,
} from "@shop/platform";
import type { Clock } from "./domain/clock.js";
import type { StockStore } from "./store/stock-store.js";

export interface LedgerRebuild {
  /** Starts a rebuild unless one is running (then nothing happens: one rebuild at a time). */
  start(reason: string): void;
  /** Progress of the running rebuild — starting one if none runs — until it is done. */
  follow(signal?: AbortSignal): AsyncGenerator<RebuildProgress>;
  /** Whether a rebuild is running (the service reports not ready meanwhile). */
  readonly running: boolean;
  /** Resolves when no rebuild runs, or after `timeoutMs`. */
  idle(timeoutMs?: number): Promise<void>;
  /**
   * At start: a Redis without the ready marker either is new (the ledger has no inventory events: mark it ready) or
   * lost its data (start a rebuild in the background).
   */
  ensureState(): Promise<void>;
}

export interface LedgerRebuildOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  store: StockStore;
  clock: Clock;
  /** Finished reservations older than this are not restored (they would be purged at once). */
  retentionMs: number;
  logger: Logger;
  /** Progress is reported at least every this many events. Default 500. */
  progressEvery?: number;
}

/** The last event of every subject matching an event type's filter: one ephemeral ordered consumer. */
async function openLastPerSubject(js: JetStreamClient, namespace: string, schema: DescMessage) {
  const consumer = await js.consumers.get(namespacedStream(namespace, eventContract(schema).stream), {
    filter_subjects: eventSubjectFilter(schema, namespace),
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  const { num_pending: pending } = await consumer.info(true);
  return { consumer, pending };
}

function decoded<Desc extends DescMessage>(schema: Desc, msg: JsMsg): MessageShape<Desc> | undefined {
  return msg.headers?.get(eventTypeHeader) === schema.typeName ? decodeEvent(schema, msg.data) : undefined;
}

/**
 * Rebuilds the inventory after Redis lost its data, from the ledger JetStream keeps forever:
 *  1. the last StockChanged of every SKU → on_hand, reserved, version and the seller version gate;
 *  2. the last ReservationChanged of every reservation → open holds (and recent finished ones, for idempotency);
 *     then the state is declared ready and the service takes writes again;
 *  3. the last StockLevelSet of every SKU → a seller level set after the last StockChanged is applied now;
 *  4. every touched SKU's reserved count is checked against its restored holds and corrected if events were lost.
 * Every restore is version-gated, so a rebuild never moves state backwards and can be run again safely.
 */
async function* rebuildOnce(options: LedgerRebuildOptions): AsyncGenerator<RebuildProgress> {
  const { js, namespace, store, clock, logger } = options;
  const every = options.progressEvery ?? 500;
  const progress = create(RebuildProgressSchema, {});
  const touched = new Set<string>();
  const phases = [
    await openLastPerSubject(js, namespace, StockChangedSchema),
    await openLastPerSubject(js, namespace, ReservationChangedSchema),
    await openLastPerSubject(js, namespace, StockLevelSetSchema),
  ];
  progress.eventsTotal = BigInt(phases.reduce((sum, phase) => sum + phase.pending, 0));
  yield clone(RebuildProgressSchema, progress);

  const apply = [
    async (msg: JsMsg) => {
      const event = decoded(StockChangedSchema, msg);
      if (!event?.level) return;
      touched.add(event.level.sku);
      if (await store.restoreLevel(event.level, event.sellerVersion)) progress.skusRestored++;
    },
    async (msg: JsMsg) => {
      const event = decoded(ReservationChangedSchema, msg);
      const reservation = event?.reservation;
      if (!event?.meta || !reservation) return;
      const finishMs = event.meta.occurTime ? timestampMs(event.meta.occurTime) : clock.now();
      const finished = reservation.state !== ReservationState.HELD;
      if (finished && finishMs + options.retentionMs <= clock.now()) return;
      for (const line of reservation.lines) touched.add(line.sku);
      if (await store.restoreReservation(reservation, event.meta.aggregateVersion, finishMs)) {
        progress.reservationsRestored++;
      }
    },
    async (msg: JsMsg) => {
      const event = decoded(StockLevelSetSchema, msg);
      if (!event?.meta || event.quantity < 0n) return;
      touched.add(event.sku);
      await store.applySellerLevel({ sku: event.sku, quantity: event.quantity, version: event.meta.aggregateVersion });
    },
  ];

  for (const [i, { consumer, pending }] of phases.entries()) {
    // Levels and holds are back after phase 2: from here on, live traffic is safe again.
    if (i === 2) await store.markReady();
    if (pending > 0) {
      const messages = await consumer.consume({ max_messages: 512 });
      for await (const msg of messages) {
        await apply[i]?.(msg);
        progress.eventsRead++;
        if (progress.eventsRead % BigInt(every) === 0n) yield clone(RebuildProgressSchema, progress);
        if (msg.info.pending === 0) break;
      }
      await messages.close();
    }
    await consumer.delete().catch(() => undefined);
  }

  let corrected = 0;
  for (const sku of touched) if (await store.reconcileReserved(sku)) corrected++;
  if (corrected > 0) logger.warn({ corrected }, "rebuild corrected reserved counts the ledger had not caught up with");
  progress.done = true;
  logger.info(
    {
      events: String(progress.eventsRead),
      skus: String(progress.skusRestored),
      reservations: String(progress.reservationsRestored),
    },
    "rebuild finished",
  );
  yield clone(RebuildProgressSchema, progress);
}

/** One rebuild run that any number of callers can follow. */
interface RebuildRun {
  latest: RebuildProgress;
  revision: number;
  finished: boolean;
  error: unknown;
  /** Resolves at the next progress report or when the run ends. */
  changed(): Promise<void>;
}

function startRun(options: LedgerRebuildOptions, onEnd: () => void): RebuildRun {
  let waiters: Array<() => void> = [];
  const wake = () => {
    for (const resolve of waiters) resolve();
    waiters = [];
  };
  const run: RebuildRun = {
    latest: create(RebuildProgressSchema, {}),
    revision: 0,
    finished: false,
    error: undefined,
    changed: () => new Promise<void>((resolve) => waiters.push(resolve)),
  };
  void (async () => {
    try {
      for await (const progress of rebuildOnce(options)) {
        run.latest = progress;
        run.revision++;
        wake();
      }
    } catch (err) {
      run.error = err;
      options.logger.error({ err }, "rebuild failed; run `shop inventory rebuild` again once NATS and Redis answer");
    } finally {
      run.finished = true;
      onEnd();
      wake();
    }
  })();
  return run;
}

/** Rebuilds run one at a time; a Rebuild call while one runs follows it instead of starting another. */
export function createLedgerRebuild(options: LedgerRebuildOptions): LedgerRebuild {
  const { logger, store } = options;
  let current: RebuildRun | undefined;
  const start = (reason: string): RebuildRun => {
    if (current && !current.finished) return current;
    logger.warn({ reason }, "rebuilding the inventory from the JetStream ledger");
    const run = startRun(options, () => {
      if (current === run) current = undefined;
    });
    current = run;
    return run;
  };

  return {
    start(reason) {
      start(reason);
    },
    get running() {
      return current !== undefined && !current.finished;
    },
    async *follow(signal) {
      const run = start("requested by an operator");
      let seen = -1;
      for (;;) {
        const changed = run.changed();
        if (run.revision !== seen) {
          seen = run.revision;
          yield clone(RebuildProgressSchema, run.latest);
        }
        if (run.finished) {
          if (run.error !== undefined) throw run.error;
          return;
        }
        if (signal?.aborted) return;
        await changed;
      }
    },
    async idle(timeoutMs = 30_000) {
      const run = current;
      if (!run || run.finished) return;
      const deadline = Date.now() + timeoutMs;
      while (!run.finished && Date.now() < deadline) {
        await Promise.race([run.changed(), new Promise((resolve) => setTimeout(resolve, 200))]);
      }
    },
    async ensureState() {
      if (await store.hasState()) return;
      const stream = namespacedStream(options.namespace, eventContract(StockChangedSchema).stream);
      const { state } = await options.jsm.streams.info(stream);
      if (state.messages === 0) await store.markReady();
      else start("Redis has no inventory state, but the ledger has events");
    },
  };
}
