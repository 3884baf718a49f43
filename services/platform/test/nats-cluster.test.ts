// What the platform does on a NATS JetStream cluster (issue 11): streams get the configured replicas without replicas
// scaling them up and down in turn, and a stream read with an ordered consumer goes on when the node holding that
// consumer is killed with SIGKILL (the client alone waits on it forever).
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, ensureStreams, tailStream } from "../src/index.js";
import { type OwnNatsCluster, startOwnNatsCluster, waitFor } from "../src/testing/index.js";

const logger = createLogger("nats-cluster-test", process.env.SHOP_LOG_LEVEL ?? "silent");
let cluster: OwnNatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  cluster = await startOwnNatsCluster(3);
  nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  jsm = await jetstreamManager(nc);
}, 60_000);

afterAll(async () => {
  try {
    await nc?.close();
  } finally {
    await cluster?.stop();
  }
});

const spec = (name: string) => ({ name, subjects: [`${name}.>`], duplicateWindowMs: 60_000, maxAgeMs: 0 });
const replicasOf = async (name: string) => (await jsm.streams.info(name)).config.num_replicas;

describe("streams on a cluster", () => {
  it("creates them with the configured replicas and raises existing ones to it", async () => {
    await ensureStreams(jsm, [spec("RAISED")], { replicas: 1 });
    expect(await replicasOf("RAISED")).toBe(1);
    await ensureStreams(jsm, [spec("RAISED"), spec("FRESH")], { replicas: 3 });
    expect(await replicasOf("RAISED")).toBe(3);
    expect(await replicasOf("FRESH")).toBe(3);
  });

  it("never lowers them: a replica started with fewer, or without the setting, leaves them as they are", async () => {
    await ensureStreams(jsm, [spec("KEPT")], { replicas: 3 });
    await ensureStreams(jsm, [spec("KEPT")], { replicas: 1 });
    expect(await replicasOf("KEPT")).toBe(3);
    await ensureStreams(jsm, [spec("KEPT")]);
    expect(await replicasOf("KEPT")).toBe(3);
  });

  it("leaves a stream it may not update as its owner made it, creating it only when it is missing", async () => {
    await ensureStreams(jsm, [spec("OWNED")], { replicas: 1 });
    await ensureStreams(jsm, [{ ...spec("OWNED"), subjects: ["OWNED.>", "MORE.>"] }, spec("ABSENT")], {
      replicas: 3,
      updatable: [],
    });
    const owned = (await jsm.streams.info("OWNED")).config;
    expect([owned.num_replicas, owned.subjects]).toEqual([1, ["OWNED.>"]]);
    expect(await replicasOf("ABSENT")).toBe(3);
    await ensureStreams(jsm, [spec("OWNED")], { replicas: 3, updatable: ["OWNED"] });
    expect(await replicasOf("OWNED")).toBe(3);
  });
});

describe("tailStream", () => {
  it("reads on, in order and once each, after the node holding its consumer was killed", async () => {
    await ensureStreams(jsm, [spec("TAILED")], { replicas: 3 });
    const js = jetstream(nc);
    const publish = async (n: number) => {
      // As the outbox relays do: the same msgID again after a failure, so a retried publish is stored once.
      await waitFor(
        () =>
          js.publish(`TAILED.${n}`, String(n), { msgID: `m${n}`, timeout: 2_000 }).then(
            () => true,
            () => false,
          ),
        60_000,
        `publish ${n}`,
      );
    };
    const seen: number[] = [];
    const tail = await tailStream({
      js,
      stream: "TAILED",
      logger,
      checkEveryMs: 500,
      onMessage: (msg) => {
        seen.push(Number(msg.string()));
      },
    });
    try {
      for (let n = 1; n <= 5; n++) await publish(n);
      await waitFor(() => seen.length === 5, 20_000, "the first five");
      const consumers = [];
      for await (const info of jsm.consumers.list("TAILED")) consumers.push(info);
      expect(consumers).toHaveLength(1);
      const holder = cluster.names.indexOf(consumers[0]?.cluster?.leader ?? "");
      expect(holder).toBeGreaterThanOrEqual(0);

      await cluster.kill(holder);
      for (let n = 6; n <= 10; n++) await publish(n);
      await waitFor(() => seen.length >= 10, 45_000, "the five published after the kill");
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await tail.stop();
    }
  }, 120_000);
});
