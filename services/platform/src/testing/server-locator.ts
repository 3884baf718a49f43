import { existsSync } from "node:fs";
import net from "node:net";

/** The backing servers a test run uses. */
export interface TestServers {
  postgresUrl: string;
  redisUrl: string;
  natsUrl: string;
}

const defaults: TestServers = {
  postgresUrl: "postgres://postgres@127.0.0.1:5432/test",
  redisUrl: "redis://127.0.0.1:6379",
  natsUrl: "nats://127.0.0.1:4222",
};

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function dockerAvailable(): boolean {
  return existsSync("/var/run/docker.sock") || process.env.DOCKER_HOST !== undefined;
}

type Kind = keyof TestServers;

const containerSpecs: Record<
  Kind,
  {
    image: string;
    port: number;
    url: (host: string, port: number) => string;
    cmd?: string[];
    env?: Record<string, string>;
  }
> = {
  postgresUrl: {
    image: "postgres:16-alpine",
    port: 5432,
    env: { POSTGRES_HOST_AUTH_METHOD: "trust", POSTGRES_DB: "test" },
    url: (h, p) => `postgres://postgres@${h}:${p}/test`,
  },
  redisUrl: { image: "redis:7-alpine", port: 6379, url: (h, p) => `redis://${h}:${p}` },
  natsUrl: { image: "nats:2.10-alpine", port: 4222, cmd: ["-js"], url: (h, p) => `nats://${h}:${p}` },
};

const started = new Map<Kind, Promise<string>>();

async function startContainer(kind: Kind): Promise<string> {
  const spec = containerSpecs[kind];
  const { GenericContainer, Wait } = await import("testcontainers");
  let container = new GenericContainer(spec.image)
    .withExposedPorts(spec.port)
    .withWaitStrategy(Wait.forListeningPorts());
  if (spec.env) container = container.withEnvironment(spec.env);
  if (spec.cmd) container = container.withCommand(spec.cmd);
  const running = await container.start();
  return spec.url(running.getHost(), running.getMappedPort(spec.port));
}

/**
 * Finds each server: the env var when set (SHOP_TEST_POSTGRES_URL, SHOP_TEST_REDIS_URL, SHOP_TEST_NATS_URL), else
 * the local default when it answers, else a testcontainers container when a Docker engine is present.
 */
export async function locateTestServers(): Promise<TestServers> {
  const fromEnv: Record<Kind, string | undefined> = {
    postgresUrl: process.env.SHOP_TEST_POSTGRES_URL,
    redisUrl: process.env.SHOP_TEST_REDIS_URL,
    natsUrl: process.env.SHOP_TEST_NATS_URL,
  };
  const entries = await Promise.all(
    (Object.keys(defaults) as Kind[]).map(async (kind): Promise<[Kind, string]> => {
      const configured = fromEnv[kind];
      if (configured) return [kind, configured];
      if (await reachable(defaults[kind])) return [kind, defaults[kind]];
      if (!dockerAvailable()) {
        throw new Error(
          `no ${kind.replace("Url", "")} server: set SHOP_TEST_${kind.replace("Url", "").toUpperCase()}_URL or start one at ${defaults[kind]}`,
        );
      }
      const url = started.get(kind) ?? startContainer(kind);
      started.set(kind, url);
      return [kind, await url];
    }),
  );
  return Object.fromEntries(entries) as unknown as TestServers;
}
