import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "@shop/platform";

/** A read of a stream from its first message, then on as messages arrive. */
export interface StreamFollower {
  /** Resolves once every message stored when the follower started has been handed over. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Follows `stream` (optionally filtered) from its start with an ordered consumer: no acks and no durable state, the
 * client recreates it on a gap, so a read model in memory is rebuilt at every start and then kept current.
 */
export async function followStream(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  filterSubject?: string;
  logger: Logger;
  onMessage(msg: JsMsg): void;
}): Promise<StreamFollower> {
  const { js, jsm, stream, logger } = options;
  const end = (await jsm.streams.info(stream)).state.last_seq;
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.All,
    filter_subjects: options.filterSubject,
  });
  let reached!: () => void;
  const caughtUp = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const messages = await consumer.consume({ max_messages: 512 });
  // Nothing matched before the end: the filtered part of the stream may be empty even when the stream is not.
  const initialPending = (await consumer.info(true).catch(() => undefined))?.num_pending;
  if (end === 0 || initialPending === 0) reached();
  const loop = (async () => {
    for await (const msg of messages) {
      try {
        options.onMessage(msg);
      } catch (err) {
        logger.warn({ err, stream, seq: msg.seq }, "event skipped by the read model");
      }
      if (msg.seq >= end || msg.info.pending === 0) reached();
    }
  })();
  return {
    caughtUp,
    async stop() {
      await messages.close();
      await loop.catch(() => undefined);
    },
  };
}
