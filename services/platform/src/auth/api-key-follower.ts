import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { ApiKeyCreatedSchema, ApiKeyRevokedSchema } from "@shop/contracts/shop/identity/v1/events_pb.js";
import { eventContract } from "../contract.js";
import { decodeEvent, eventTypeHeader } from "../events/event-codec.js";
import { namespacedStream } from "../events/event-subjects.js";
import { tailStream } from "../events/stream-tail.js";
import type { Logger } from "../logger.js";
import type { ApiKeyRegistry } from "./api-keys.js";

/**
 * Keeps an ApiKeyRegistry in step with the identity stream: every service replica replays the key events at start
 * and follows new ones, so a key created through one service works on all of them within milliseconds.
 * Resolves once the stream has been read up to its end at start.
 */
export async function followApiKeys(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  registry: ApiKeyRegistry;
  namespace: string;
  logger: Logger;
}): Promise<{ stop(): Promise<void> }> {
  const stream = namespacedStream(options.namespace, eventContract(ApiKeyCreatedSchema).stream);
  const { state } = await options.jsm.streams.info(stream);
  let resolveCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    resolveCaughtUp = resolve;
  });
  if (state.last_seq === 0) resolveCaughtUp();
  // Read on through the loss of the cluster node holding the consumer: a revoked key must stop working everywhere.
  const tail = await tailStream({
    js: options.js,
    stream,
    logger: options.logger,
    onMessage(msg) {
      const type = msg.headers?.get(eventTypeHeader);
      try {
        if (type === ApiKeyCreatedSchema.typeName) {
          const event = decodeEvent(ApiKeyCreatedSchema, msg.data);
          options.registry.put({ id: event.keyId, role: event.role, secretSha256: event.secretSha256 });
        } else if (type === ApiKeyRevokedSchema.typeName) {
          options.registry.remove(decodeEvent(ApiKeyRevokedSchema, msg.data).keyId);
        }
      } catch (err) {
        options.logger.error({ err, seq: msg.seq }, "unreadable identity event skipped");
      }
      if (msg.seq >= state.last_seq) resolveCaughtUp();
    },
  });
  await caughtUp;
  return { stop: () => tail.stop() };
}
