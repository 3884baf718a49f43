import { Counter, Gauge, type Registry } from "prom-client";

/** What an outbox holds that no relay has published yet. */
export interface OutboxBacklog {
  events: number;
  /** How long the oldest unpublished event has waited; 0 when there is none. */
  oldestAgeSeconds: number;
}

/** How far a durable consumer is behind its stream, as the server counts it. */
export interface ConsumerLag {
  /** Stored events matching the consumer's filter that it has not been given yet. */
  pending: number;
  /** Events given to it and not yet acknowledged. */
  unacked: number;
}

/** The event pipeline's metrics on one registry, shared by every relay and consumer of the process. */
export interface PipelineMetrics {
  published: Counter;
  relayFailures: Counter<"step">;
  handled: Counter<"consumer" | "outcome">;
  /** Asked at each scrape; a relay adds its source's backlog while it runs. */
  backlogs: Set<() => Promise<OutboxBacklog>>;
  /** Asked at each scrape, by durable consumer name; a consumer adds itself while it runs. */
  lags: Map<string, () => Promise<ConsumerLag>>;
}

const byRegistry = new WeakMap<Registry, PipelineMetrics>();

/** The pipeline's metrics on `registry`, registered on first use. */
export function pipelineMetrics(registry: Registry): PipelineMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const backlogs = new Set<() => Promise<OutboxBacklog>>();
  const lags = new Map<string, () => Promise<ConsumerLag>>();
  const registers = [registry];
  // One scrape collects every gauge at once: the two backlog gauges share one reading of each source, and the two lag
  // gauges one consumer-info request per consumer. A source that cannot answer (its database is down) leaves its
  // gauges out of the scrape rather than stale.
  const readBacklogs = inFlightOnce(async () => {
    const readings = await Promise.allSettled([...backlogs].map((read) => read()));
    return readings.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  });
  const readLags = inFlightOnce(async () => {
    const entries = [...lags];
    const readings = await Promise.allSettled(entries.map(([, read]) => read()));
    return readings.flatMap((r, at) => (r.status === "fulfilled" ? [[entries[at]?.[0] ?? "", r.value] as const] : []));
  });
  const backlogGauge = (name: string, help: string, combine: (answered: OutboxBacklog[]) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.reset();
        const answered = await readBacklogs();
        if (answered.length > 0) this.set(combine(answered));
      },
    });
  backlogGauge(
    "outbox_backlog_events",
    "Events committed to the outbox that no relay has published to JetStream yet",
    (answered) => answered.reduce((sum, b) => sum + b.events, 0),
  );
  backlogGauge(
    "outbox_oldest_event_age_seconds",
    "How long the oldest unpublished outbox event has waited (0 when the outbox is empty)",
    (answered) => Math.max(...answered.map((b) => b.oldestAgeSeconds)),
  );
  const lagGauge = (name: string, help: string, pick: (lag: ConsumerLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["consumer"] as const,
      registers,
      async collect() {
        this.reset();
        for (const [consumer, lag] of await readLags()) this.set({ consumer }, pick(lag));
      },
    });
  lagGauge(
    "event_consumer_pending_events",
    "Stored events a durable consumer has not been given yet",
    (l) => l.pending,
  );
  lagGauge(
    "event_consumer_unacked_events",
    "Events given to a durable consumer and not yet acknowledged",
    (l) => l.unacked,
  );
  const metrics: PipelineMetrics = {
    published: new Counter({
      name: "outbox_events_published_total",
      help: "Outbox events JetStream acknowledged",
      registers,
    }),
    relayFailures: new Counter({
      name: "outbox_relay_failures_total",
      help: "Outbox claims or publishes that failed and will be retried, by step",
      labelNames: ["step"] as const,
      registers,
    }),
    handled: new Counter({
      name: "event_consumer_events_total",
      help: "Events a durable consumer settled, by outcome: handled, skipped (no handler), retried, dead_lettered",
      labelNames: ["consumer", "outcome"] as const,
      registers,
    }),
    backlogs,
    lags,
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

/** `read`, with calls made while one is in flight sharing its answer (the gauges of one scrape are collected at once). */
function inFlightOnce<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
