import {
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JsMsg,
  type OrderedConsumerOptions,
} from "@nats-io/jetstream";
import type { Logger } from "../logger.js";

export interface StreamTailOptions {
  js: JetStreamClient;
  stream: string;
  /** Only messages on this subject (NATS 2.9 takes one filter). Default: the whole stream. */
  filterSubject?: string;
  /** The first stream sequence to read. Default 1: the whole stream. */
  startSequence?: number;
  /** Messages asked for at once. Default 256. */
  maxMessages?: number;
  /** How often the consumer is checked to still answer. Default 5 s; two failed checks in a row recreate it. */
  checkEveryMs?: number;
  logger: Logger;
  /** Called in stream order, one message at a time; a message whose handler throws is logged and skipped. */
  onMessage(msg: JsMsg): void | Promise<void>;
}

export interface StreamTail {
  /** Messages (matching the filter) the stream held after the start sequence when the tail began. */
  pendingAtStart: number;
  stop(): Promise<void>;
}

const isTimeout = (err: unknown) => err instanceof Error && /timeout/i.test(`${err.name} ${err.message}`);

/**
 * Reads a stream in order with an ordered consumer, and keeps reading when the server holding that consumer dies.
 * An ordered consumer has one copy, on one node of a cluster; the client recreates it after a gap or when the server
 * says it is gone, but when its node was killed the server only times out, and the client waits on forever. So the
 * consumer is checked every few seconds, and one that no longer answers is replaced from the next unread sequence.
 * Creating one may time out too (NATS 2.9 can place it on the dead node for a while): that is retried.
 */
export async function tailStream(options: StreamTailOptions): Promise<StreamTail> {
  const { js, stream, logger } = options;
  const checkEveryMs = options.checkEveryMs ?? 5_000;
  let next = options.startSequence ?? 1;
  let stopped = false;
  let messages: ConsumerMessages | undefined;

  const open = async (): Promise<Consumer> => {
    for (;;) {
      const position: Partial<OrderedConsumerOptions> =
        next > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next } : {};
      try {
        return await js.consumers.get(stream, { ...position, filter_subjects: options.filterSubject });
      } catch (err) {
        if (stopped || !isTimeout(err)) throw err;
        logger.warn({ stream, next }, "creating an ordered consumer timed out; trying again");
      }
    }
  };

  const first = await open();
  const loop = (async () => {
    let consumer: Consumer | undefined = first;
    while (!stopped) {
      consumer ??= await open();
      if (stopped) break;
      const current = await consumer.consume({ max_messages: options.maxMessages ?? 256 });
      messages = current;
      const watched = consumer;
      let failures = 0;
      let checking = false;
      const watchdog = setInterval(() => {
        if (checking) return;
        checking = true;
        watched
          .info(false)
          .then(
            () => {
              failures = 0;
            },
            (err: unknown) => {
              if (++failures < 2) return;
              logger.warn({ stream, next, err }, "ordered consumer no longer answers; recreating it");
              void current.close();
            },
          )
          .finally(() => {
            checking = false;
          });
      }, checkEveryMs);
      try {
        for await (const msg of current) {
          next = msg.seq + 1;
          try {
            await options.onMessage(msg);
          } catch (err) {
            logger.warn({ stream, seq: msg.seq, err }, "message skipped: its handler failed");
          }
        }
      } catch (err) {
        // The client gave the consumer up (e.g. it could not recreate it): start a new one from the same place.
        if (!stopped) logger.warn({ stream, next, err }, "ordered consumer stopped; recreating it");
      } finally {
        clearInterval(watchdog);
      }
      consumer = undefined;
    }
  })();
  loop.catch((err) => {
    if (!stopped) logger.error({ err, stream }, "reading the stream stopped");
  });

  return {
    pendingAtStart: (await first.info(true)).num_pending,
    async stop() {
      stopped = true;
      await messages?.close();
      await loop.catch(() => undefined);
    },
  };
}
