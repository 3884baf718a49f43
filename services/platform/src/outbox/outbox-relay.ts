import type { Registry } from "prom-client";
import type { EncodedEvent } from "../events/event-codec.js";
import type { EventPublisher } from "../events/event-publisher.js";
import { type OutboxBacklog, pipelineMetrics } from "../events/pipeline-metrics.js";
import type { Logger } from "../logger.js";

/** Events claimed from an outbox, to be published in the given order and then settled. */
export interface OutboxBatch {
  events: EncodedEvent[];
  /** All events were published: mark them sent (and release any claim). */
  markPublished(): Promise<void>;
  /** Publishing failed part-way: release the claim so the events are tried again (dedup absorbs repeats). */
  abandon(): Promise<void>;
}

/** Where a service keeps events written together with its state (a Postgres table, a Redis stream). */
export interface OutboxSource {
  /** Claims up to `limit` unpublished events, oldest first, or returns undefined when there are none. */
  claim(limit: number): Promise<OutboxBatch | undefined>;
  /** Resolves when new events may be waiting (LISTEN/NOTIFY, XREAD BLOCK) or after `timeoutMs`, whichever is first. */
  waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** What is waiting to be published, for the metrics. Optional: without it the backlog gauges stay empty. */
  backlog?(): Promise<OutboxBacklog>;
}

export interface OutboxRelayOptions {
  source: OutboxSource;
  publisher: EventPublisher;
  logger: Logger;
  /** Events per claim. Default 256. */
  batchSize?: number;
  /** Longest sleep between claims when nothing signals new work (the polling fallback). Default 1 s. */
  pollMs?: number;
  /** Pause after a failed publish before trying again. Default 500 ms, doubling up to 10 s. */
  retryMs?: number;
  /**
   * Publishes awaiting their ack at once. Default 1 (one after the other). Above 1, events on different subjects are
   * pipelined while events on one subject still go one at a time, each after the previous one's ack, so a failure can
   * never let a later event of an aggregate overtake an earlier one.
   */
  maxInFlight?: number;
  /**
   * Where the relay's metrics go (the service's registry, `platform.metrics`): events published, failures by step,
   * and the source's backlog and oldest event's age at each scrape. Default: none.
   */
  metrics?: Registry;
}

export interface OutboxRelay {
  /** Stops claiming and waits for the batch in hand to settle. */
  stop(): Promise<void>;
  /** Resolves once the outbox was found empty after this call (tests, graceful shutdown). */
  drained(timeoutMs?: number): Promise<void>;
}

/**
 * Moves events from an outbox to JetStream: claim a batch, publish each event with msgID = event id (so a batch that
 * is re-sent after a crash is stored once), then mark it sent. Ordering per aggregate is the source's job: it must not
 * hand two relays events of the same aggregate at the same time.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { source, publisher, logger } = options;
  const batchSize = options.batchSize ?? 256;
  const pollMs = options.pollMs ?? 1_000;
  const controller = new AbortController();
  let failures = 0;
  let emptyWaiters: Array<() => void> = [];

  const maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  const metrics = options.metrics && pipelineMetrics(options.metrics);
  const backlog = source.backlog?.bind(source);
  if (metrics && backlog) metrics.backlogs.add(backlog);

  const publishInOrder = async (events: EncodedEvent[]) => {
    if (maxInFlight === 1) {
      for (const event of events) await publisher.publishEncoded(event);
      return;
    }
    const lastOnSubject = new Map<string, Promise<unknown>>();
    const inFlight = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    for (const event of events) {
      if (failure) break;
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const previous = lastOnSubject.get(event.subject) ?? Promise.resolve();
      // Chained: a rejected predecessor rejects this one without publishing it.
      const sending = previous.then(() => publisher.publishEncoded(event));
      lastOnSubject.set(event.subject, sending);
      const settled: Promise<void> = sending
        .then(
          () => undefined,
          (err: unknown) => {
            failure ??= { err };
          },
        )
        .finally(() => inFlight.delete(settled));
      inFlight.add(settled);
    }
    await Promise.all(inFlight);
    if (failure) throw failure.err;
  };

  const relayOnce = async (): Promise<"published" | "empty" | "failed"> => {
    const batch = await source.claim(batchSize);
    if (batch === undefined || batch.events.length === 0) {
      await batch?.markPublished();
      return "empty";
    }
    try {
      await publishInOrder(batch.events);
    } catch (err) {
      await batch
        .abandon()
        .catch((abandonErr) => logger.error({ err: abandonErr }, "outbox: releasing a claim failed"));
      logger.warn({ err, events: batch.events.length }, "outbox: publishing failed; will retry");
      metrics?.relayFailures.inc({ step: "publish" });
      return "failed";
    }
    await batch.markPublished();
    metrics?.published.inc(batch.events.length);
    return "published";
  };

  const loop = (async () => {
    while (!controller.signal.aborted) {
      let outcome: "published" | "empty" | "failed";
      try {
        outcome = await relayOnce();
      } catch (err) {
        logger.warn({ err }, "outbox: claim failed; will retry");
        metrics?.relayFailures.inc({ step: "claim" });
        outcome = "failed";
      }
      if (outcome === "published") {
        failures = 0;
        continue;
      }
      if (outcome === "empty") {
        failures = 0;
        for (const resolve of emptyWaiters) resolve();
        emptyWaiters = [];
        await source.waitForWork(pollMs, controller.signal).catch(() => undefined);
        continue;
      }
      failures++;
      const delay = Math.min(10_000, (options.retryMs ?? 500) * 2 ** (failures - 1));
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay);
        controller.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  })();

  return {
    async stop() {
      controller.abort();
      if (backlog) metrics?.backlogs.delete(backlog);
      await loop;
    },
    drained(timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`outbox not drained after ${timeoutMs} ms`)), timeoutMs);
        emptyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
