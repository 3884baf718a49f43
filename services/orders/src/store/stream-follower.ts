import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { type Logger, tailStream } from "@shop/platform";

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
  let reached!: () => void;
  const caughtUp = new Promise<void>((resolve) => {
    reached = resolve;
  });
  // A cluster node dying with the consumer on it does not stop the read model: the tail recreates the consumer.
  const tail = await tailStream({
    js,
    stream,
    filterSubject: options.filterSubject,
    maxMessages: 512,
    logger,
    onMessage(msg) {
      try {
        options.onMessage(msg);
      } catch (err) {
        logger.warn({ err, stream, seq: msg.seq }, "event skipped by the read model");
      }
      if (msg.seq >= end || msg.info.pending === 0) reached();
    },
  });
  // Nothing matched before the end: the filtered part of the stream may be empty even when the stream is not.
  if (end === 0 || tail.pendingAtStart === 0) reached();
  return { caughtUp, stop: () => tail.stop() };
}
