// Reindex across replicas that share one OpenSearch alias: only the index writer (the lease holder) can build a new
// version, so a replica without the lease forwards an operator's Reindex to it over core NATS and relays its progress.
import { Code, ConnectError } from "@connectrpc/connect";
import { createInbox, Empty, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { type Logger, namespacedSubject } from "@shop/platform";
import type { RebuildProgress } from "./catalog-read-model.js";
import type { IndexWriterLease } from "./store/index-writer-lease.js";

/** Builds a new index version and serves it, reporting progress; resolves with the final (done) progress. */
export type Reindex = (onProgress: (progress: RebuildProgress) => void) => Promise<RebuildProgress>;

/** What the writer sends back: progress (the last one done), or why the rebuild failed. */
type Answer = RebuildProgress | { error: string; code: Code };

/** The subject reindex requests for an alias go to; every replica of that alias listens, only the writer answers. */
export function reindexSubject(namespace: string, alias: string): string {
  return namespacedSubject(namespace, `shop-internal.search.reindex.${alias}`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Answers other replicas' reindex requests while this replica holds the lease. Progress is repeated every
 * `heartbeatMs` even when it does not move (refresh, alias swap), so the asking replica can tell a slow rebuild from
 * a writer that died.
 */
export function serveReindexRequests(options: {
  nats: NatsConnection;
  subject: string;
  lease: IndexWriterLease;
  reindex: Reindex;
  logger: Logger;
  heartbeatMs?: number;
}): { stop(): void } {
  const { nats, lease, reindex, logger } = options;
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const subscription: Subscription = nats.subscribe(options.subject, {
    callback: (err, msg) => {
      if (err || !msg.reply || !lease.held) return;
      const reply = msg.reply;
      const send = (answer: Answer) => {
        if (!nats.isClosed()) nats.publish(reply, encoder.encode(JSON.stringify(answer)));
      };
      let latest: RebuildProgress = { version: "", applied: 0, total: 0, done: false };
      send(latest);
      const heartbeat = setInterval(() => send(latest), heartbeatMs);
      logger.info({ subject: options.subject }, "reindex requested by another replica");
      reindex((progress) => {
        latest = progress;
        send(progress);
      })
        .then(send, (error: unknown) => {
          const failure = ConnectError.from(error);
          send({ error: failure.rawMessage, code: failure.code });
        })
        .finally(() => clearInterval(heartbeat));
    },
  });
  return { stop: () => subscription.unsubscribe() };
}

/**
 * A Reindex for a replica without the lease: asks the writer and relays its progress. Fails with Unavailable when no
 * writer answers within `firstAnswerMs` (the lease is between holders) or when the writer goes silent for `silenceMs`
 * (it died mid-rebuild; the next writer can be asked once it took the lease over).
 */
export function forwardedReindex(options: {
  nats: NatsConnection;
  subject: string;
  firstAnswerMs?: number;
  silenceMs?: number;
}): Reindex {
  const { nats, subject } = options;
  const firstAnswerMs = options.firstAnswerMs ?? 5_000;
  const silenceMs = options.silenceMs ?? 30_000;
  return (onProgress) =>
    new Promise<RebuildProgress>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        subscription.unsubscribe();
        settle();
      };
      const expectWithin = (ms: number, why: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(() => reject(new ConnectError(why, Code.Unavailable))), ms);
      };
      const subscription = nats.subscribe(createInbox(), {
        callback: (err, msg) => {
          if (err) return finish(() => reject(ConnectError.from(err, Code.Unavailable)));
          let answer: Answer;
          try {
            answer = JSON.parse(decoder.decode(msg.data)) as Answer;
          } catch (parseError) {
            return finish(() => reject(ConnectError.from(parseError, Code.Internal)));
          }
          if ("error" in answer) {
            return finish(() =>
              reject(new ConnectError(`the replica that writes the index failed: ${answer.error}`, answer.code)),
            );
          }
          if (answer.done) return finish(() => resolve(answer));
          expectWithin(silenceMs, "the replica writing the index stopped answering mid-reindex; retry in a minute");
          if (answer.version) onProgress(answer);
        },
      });
      expectWithin(firstAnswerMs, "no search replica writes the index right now (the lease is changing hands); retry");
      nats.publish(subject, Empty, { reply: subscription.getSubject() });
    });
}
