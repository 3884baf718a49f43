import type { DescMessage } from "@bufbuild/protobuf";
import {
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { allEventContracts } from "../contract.js";
import type { Logger } from "../logger.js";
import { eventSubjectFilter, namespacedStream, namespacedSubject } from "./event-subjects.js";

/** Dead letters of every consumer land here, on `shop.deadletter.<consumer>`. */
export const deadLetterStream = "DEAD_LETTER";

/** Subject of one consumer's dead letters. */
export function deadLetterSubject(namespace: string, consumer: string): string {
  return namespacedSubject(namespace, `shop.deadletter.${consumer}`);
}

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Window in which a repeated msgID is stored once. */
  duplicateWindowMs: number;
  /** 0 keeps messages forever: the domain streams are the ledger that read models and Redis are rebuilt from. */
  maxAgeMs: number;
}

/**
 * The one declarative list of streams: one per `stream` named in the contract's event options, holding exactly the
 * subjects of its events, plus the dead-letter stream.
 */
export function contractStreams(
  namespace = "",
  events: DescMessage[] = allEventContracts().map((e) => e.schema),
): StreamSpec[] {
  const byStream = new Map<string, Set<string>>();
  for (const contract of allEventContracts().filter((c) => events.includes(c.schema))) {
    const subjects = byStream.get(contract.stream) ?? new Set<string>();
    subjects.add(eventSubjectFilter(contract.schema, namespace));
    byStream.set(contract.stream, subjects);
  }
  const specs: StreamSpec[] = [...byStream].map(([stream, subjects]) => ({
    name: namespacedStream(namespace, stream),
    subjects: [...subjects].sort(),
    duplicateWindowMs: 2 * 60_000,
    maxAgeMs: 0,
  }));
  specs.push({
    name: namespacedStream(namespace, deadLetterStream),
    subjects: [deadLetterSubject(namespace, ">")],
    duplicateWindowMs: 2 * 60_000,
    maxAgeMs: 30 * 24 * 3_600_000,
  });
  return specs;
}

export interface EnsureStreamsOptions {
  /**
   * Copies of each stream in a cluster (`num_replicas`, SHOP_NATS_STREAM_REPLICAS). A new stream gets this many; an
   * existing one is raised to it but never lowered, so replicas started with different values do not scale the
   * streams up and down in turn. Default: 1 for a new stream, and an existing one keeps its count.
   */
  replicas?: number;
  /** Told when a stream keeps more copies than asked for. */
  logger?: Logger;
  /**
   * The streams this caller may update (a service: its own, see nats-permissions.ts); any other one is created when
   * missing and otherwise left as its owner configured it. Default: every stream.
   */
  updatable?: string[];
}

/** Creates or updates the streams; safe to run from every replica at every start. */
export async function ensureStreams(
  jsm: JetStreamManager,
  specs: StreamSpec[],
  options: EnsureStreamsOptions = {},
): Promise<void> {
  for (const spec of specs) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: spec.name,
      subjects: spec.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(spec.duplicateWindowMs),
      max_age: nanos(spec.maxAgeMs),
    };
    try {
      const info = await jsm.streams.info(spec.name);
      if (options.updatable && !options.updatable.includes(spec.name)) continue;
      const subjects = new Set([...(info.config.subjects ?? []), ...spec.subjects]);
      const current = info.config.num_replicas || 1;
      const replicas = Math.max(current, options.replicas ?? current);
      if (options.replicas !== undefined && current > options.replicas) {
        options.logger?.info(
          { stream: spec.name, replicas: current, asked: options.replicas },
          "stream keeps more replicas than SHOP_NATS_STREAM_REPLICAS asks for (lower them with `nats stream edit`)",
        );
      }
      await jsm.streams.update(spec.name, {
        ...info.config,
        ...config,
        subjects: [...subjects],
        num_replicas: replicas,
      });
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || !/not found/i.test(err.message)) throw err;
      await jsm.streams.add({ ...config, num_replicas: options.replicas ?? 1 });
    }
  }
}
