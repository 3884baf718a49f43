import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createEventPublisher, type EventPublisher } from "../events/event-publisher.js";
import { contractStreams, ensureStreams } from "../events/streams.js";
import type { TestEnv } from "./test-env.js";

export interface TestJetStream {
  nats: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Publishes contract events into the test's namespace. */
  events: EventPublisher;
  close(): Promise<void>;
}

/**
 * A NATS connection for a test, with the contract's streams provisioned in the test's namespace (at the env's
 * replicas, as its services make them).
 */
export async function openTestJetStream(
  env: Pick<TestEnv, "natsUrl" | "namespace"> & Partial<Pick<TestEnv, "natsStreamReplicas">>,
): Promise<TestJetStream> {
  const nats = await connect({ servers: env.natsUrl.split(",") });
  const js = jetstream(nats);
  const jsm = await jetstreamManager(nats);
  await ensureStreams(jsm, contractStreams(env.namespace), { replicas: env.natsStreamReplicas });
  return { nats, js, jsm, events: createEventPublisher(js, env.namespace), close: () => nats.close() };
}
