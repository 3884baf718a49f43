import { create } from "@bufbuild/protobuf";
import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { type RecoveredOrder, RecoveredOrderSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import type { Logger } from "@shop/platform";
import { Counter, Gauge, type Registry } from "prom-client";
import { decideRecovery, isStuck, type RecoveryDecision, recordedStep } from "./domain/recovery-rules.js";
import type { OrderReadModel } from "./order-read-model.js";
import { type FoundPayment, resumeCheckout, type SagaPorts } from "./order-saga.js";
import { isOrderConflict } from "./store/order-event-store.js";
import type { RecoveryClaims } from "./store/recovery-claims.js";
import type { IntentLookup, IntentTruth } from "./stripe-intent-lookup.js";

/** One pass's scope: what RecoverOrders asks for, or the timer's defaults. */
export interface RecoveryPass {
  /** Report what would be done; change nothing (and never create an intent to find one). */
  dryRun?: boolean;
  /** Only orders unchanged for this long. Default: the worker's threshold. */
  olderThanMs?: number;
  /** At most this many orders. Default 100. */
  limit?: number;
}

/** Drives orders that checkout left between two steps to a final state; runs on a timer and on demand. */
export interface OrderRecovery {
  recoverNow(pass?: RecoveryPass): Promise<RecoveredOrder[]>;
  /**
   * The inventory expired the order's stock hold: an order still awaiting its payment (3-D Secure) is settled now
   * instead of at a later pass — intent canceled, order cancelled with a reason, or, if the customer paid meanwhile,
   * refunded and cancelled. Other orders (settled, or still being placed) are left to checkout and the passes.
   * Repeating it changes nothing; it throws when another worker holds the order, so the caller retries.
   */
  settleExpiredHold(orderId: string): Promise<RecoveredOrder | undefined>;
  start(): void;
  stop(): Promise<void>;
}

/** How many stuck orders one pass handles at once: each is a few calls to Stripe and the inventory. */
const concurrency = 8;

export function createOrderRecovery(options: {
  ports: SagaPorts;
  readModel: OrderReadModel;
  lookup: IntentLookup;
  claims: RecoveryClaims;
  logger: Logger;
  /** An order unchanged this long is taken as stuck (a live checkout takes seconds). */
  recoverAfterMs: number;
  /** How often the timer runs a pass; 0 turns the timer off (RecoverOrders still works). */
  intervalMs: number;
  /** Injected so tests can move time; default Date.now. */
  now?: () => number;
  /** The service's registry (`platform.metrics`) for what recovery settles and what waits for it. Default: none. */
  metrics?: Registry;
}): OrderRecovery {
  const { ports, readModel, lookup, claims, logger } = options;
  const now = options.now ?? Date.now;
  const metrics = options.metrics && recoveryMetrics(options.metrics, () => stuckOrders(options.recoverAfterMs).length);

  /** Orders left between two checkout steps for at least `olderThanMs`, by the read model. */
  const stuckOrders = (olderThanMs: number) =>
    [OrderState.PENDING, OrderState.AWAITING_PAYMENT]
      .flatMap((state) => readModel.list({ state }, 100_000, "").orders)
      .filter((order) => isStuck(order, now(), olderThanMs));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const report = (order: Order, stateAfter: OrderState, action: string) =>
    create(RecoveredOrderSchema, { orderId: order.id, stateBefore: order.state, stateAfter, action });

  /** Stripe's word on the order's payment; undefined when no intent can exist. */
  async function paymentOf(order: Order, dryRun: boolean): Promise<IntentTruth | undefined | "unknown"> {
    const step = recordedStep(order);
    if (step === "placed") return undefined;
    if (order.paymentIntentId !== "") return lookup.retrieve(order.paymentIntentId);
    if (dryRun) return "unknown";
    const amount = order.total ?? order.subtotal;
    if (amount === undefined) return undefined;
    return lookup.findByOrder(order.id, amount);
  }

  async function recoverOne(
    orderId: string,
    pass: Required<RecoveryPass>,
    holdExpired = false,
  ): Promise<RecoveredOrder | undefined> {
    const stored = await ports.store.load(orderId);
    if (stored === undefined || !isStuck(stored.order, now(), pass.olderThanMs)) return undefined;
    const before = stored.order;
    let intent = await paymentOf(before, pass.dryRun);
    if (intent === "unknown") {
      return report(before, before.state, "would find the payment at Stripe by its idempotency key, then settle");
    }
    let decision: RecoveryDecision = decideRecovery({
      order: before,
      intent,
      nowMs: now(),
      holdMs: ports.holdMs,
      holdExpired,
    });
    const stateAfter = decision.kind === "commit" ? OrderState.PAID : OrderState.CANCELLED;
    if (decision.kind === "wait") return report(before, before.state, decision.action);
    if (pass.dryRun) return report(before, stateAfter, `would: ${decision.action}`);
    if (decision.kind === "compensate" && intent !== undefined && intent.status !== "canceled") {
      // Cancel at Stripe first, so the customer cannot pay in the gap; if they already did, it is a sale after all.
      intent = await lookup.cancel(before.id, intent.intentId);
      if (intent.status === "succeeded" || intent.status === "processing") {
        decision = decideRecovery({ order: before, intent, nowMs: now(), holdMs: ports.holdMs, holdExpired });
        if (decision.kind === "wait") return report(before, before.state, decision.action);
      }
    }
    const found: FoundPayment | undefined =
      intent === undefined
        ? undefined
        : { ...intent, refund: () => lookup.refund(before.id, (intent as IntentTruth).intentId) };
    const after = await resumeCheckout(ports, stored, decision, found);
    metrics?.settled.inc({ state: OrderState[after.state] ?? String(after.state) });
    logger.info({ orderId: before.id, state: OrderState[after.state], action: decision.action }, "order recovered");
    return report(before, after.state, decision.action);
  }

  async function recoverClaimed(
    orderId: string,
    pass: Required<RecoveryPass>,
    holdExpired = false,
  ): Promise<RecoveredOrder | undefined> {
    if (pass.dryRun) return recoverOne(orderId, pass);
    if (!(await claims.claim(orderId))) return undefined;
    try {
      return await recoverOne(orderId, pass, holdExpired);
    } catch (err) {
      // Someone else advanced it meanwhile (the webhook, a late checkout): it is theirs now.
      if (isOrderConflict(err)) return undefined;
      throw err;
    } finally {
      await claims.release(orderId).catch(() => undefined);
    }
  }

  async function pass(requested: RecoveryPass = {}): Promise<RecoveredOrder[]> {
    const scope: Required<RecoveryPass> = {
      dryRun: requested.dryRun ?? false,
      olderThanMs: requested.olderThanMs ?? options.recoverAfterMs,
      limit: requested.limit && requested.limit > 0 ? requested.limit : 100,
    };
    await readModel.caughtUp;
    const candidates = stuckOrders(scope.olderThanMs).slice(0, scope.limit);
    const recovered: RecoveredOrder[] = [];
    for (let i = 0; i < candidates.length; i += concurrency) {
      const results = await Promise.allSettled(
        candidates.slice(i, i + concurrency).map((order) => recoverClaimed(order.id, scope)),
      );
      for (const [j, result] of results.entries()) {
        if (result.status === "fulfilled") {
          if (result.value !== undefined) recovered.push(result.value);
        } else {
          const orderId = candidates[i + j]?.id;
          logger.warn({ orderId, err: (result.reason as Error)?.message }, "order recovery failed; next pass retries");
          metrics?.failures.inc();
        }
      }
    }
    if (!scope.dryRun) metrics?.lastPass.setToCurrentTime();
    return recovered;
  }

  return {
    recoverNow(requested) {
      const next = running.catch(() => undefined).then(() => pass(requested));
      running = next;
      return next;
    },
    async settleExpiredHold(orderId) {
      const awaitingPayment = async () =>
        (await ports.store.load(orderId))?.order.state === OrderState.AWAITING_PAYMENT;
      if (!(await awaitingPayment())) return undefined;
      const recovered = await recoverClaimed(orderId, { dryRun: false, olderThanMs: 0, limit: 1 }, true);
      if (recovered === undefined && (await awaitingPayment())) {
        throw new Error(`order ${orderId} is being recovered by another worker; its expired hold is settled later`);
      }
      if (recovered !== undefined) logger.info({ orderId, action: recovered.action }, "order's stock hold expired");
      return recovered;
    },
    start() {
      if (options.intervalMs <= 0 || timer !== undefined) return;
      const tick = () => {
        timer = setTimeout(() => {
          running = running
            .catch(() => undefined)
            .then(() => pass())
            .catch((err) => logger.warn({ err: (err as Error).message }, "order recovery pass failed"))
            .finally(() => {
              if (timer !== undefined) tick();
            });
        }, options.intervalMs);
        timer.unref();
      };
      tick();
    },
    async stop() {
      const current = timer;
      timer = undefined;
      if (current !== undefined) clearTimeout(current);
      await running.catch(() => undefined);
    },
  };
}

/** Recovery's metrics: orders it settled by the state it left them in, failures, the last pass, and what waits now. */
function recoveryMetrics(registry: Registry, stuckNow: () => number) {
  const registers = [registry];
  new Gauge({
    name: "order_recovery_stuck_orders",
    help: "Orders left between two checkout steps for longer than the recovery threshold, waiting for a pass",
    registers,
    collect() {
      this.set(stuckNow());
    },
  });
  return {
    settled: new Counter({
      name: "order_recovery_settled_total",
      help: "Orders recovery drove to a final state (a pass or an expired hold), by that state",
      labelNames: ["state"] as const,
      registers,
    }),
    failures: new Counter({
      name: "order_recovery_failures_total",
      help: "Orders a recovery pass failed to settle; the next pass tries again",
      registers,
    }),
    lastPass: new Gauge({
      name: "order_recovery_last_pass_timestamp_seconds",
      help: "When the last recovery pass (not a dry run) finished, in Unix seconds",
      registers,
    }),
  };
}
