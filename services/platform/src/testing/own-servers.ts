// Servers a fault-injection test owns and may kill: never the shared ones.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

// Ports handed out by this process, so two servers of one test never get the same one.
const handedOut = new Set<number>();

/**
 * A port nothing listens on right now, chosen below the kernel's ephemeral range (32768+ on Linux): a port the
 * kernel picks for `listen(0)` or an outgoing connection can be taken by any other process between this call and
 * the moment a child server binds it, which made `npm start` in a test fail with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free port between 20000 and 32000");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A server process owned by one test: started on a fixed port so it can be killed and started again there. */
export interface OwnServer {
  url: string;
  port: number;
  /** Kills the process at once (SIGKILL: no shutdown, no save). */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Kills it and removes its files. */
  dispose(): Promise<void>;
}

function ownServer(
  port: number,
  url: string,
  command: string,
  args: string[],
  dir?: string,
  env?: Record<string, string>,
): OwnServer {
  let child: ChildProcess | undefined;
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    child = undefined;
  };
  return {
    url,
    port,
    kill,
    async start() {
      child = spawn(command, args, { stdio: "ignore", env: env && { ...process.env, ...env } });
      await waitForPort(port);
    },
    async dispose() {
      await kill();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server that keeps nothing on disk, like the shared one: killing it loses every key. */
export async function startOwnRedis(): Promise<OwnServer> {
  const port = await freePort();
  const server = ownServer(port, `redis://127.0.0.1:${port}`, "/usr/bin/redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  await server.start();
  return server;
}

/**
 * A nats-server with JetStream on its own store directory, which survives a kill and restart. `args` are further
 * flags, e.g. `["--user", user, "--pass", password]` for a server that requires authentication; `port` a port of this
 * test's, e.g. where a killed server listened, to be replaced by one configured otherwise (default: a free one);
 * `env` more of its environment, e.g. the passwords a config file (`-c`) names as `$VARIABLE`s.
 */
export async function startOwnNats(
  options: { args?: string[]; port?: number; env?: Record<string, string> } = {},
): Promise<OwnServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "shop-nats-"));
  const server = ownServer(
    port,
    `nats://127.0.0.1:${port}`,
    "/usr/sbin/nats-server",
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir, ...(options.args ?? [])],
    dir,
    options.env,
  );
  await server.start();
  return server;
}

/** A JetStream cluster of `nats-server` processes owned by one test, e.g. to kill a node in the middle of a load. */
export interface OwnNatsCluster {
  /** Client URLs of the nodes, in node order (SHOP_NATS_URL joins them with commas). */
  urls: string[];
  /** Server names of the nodes, in node order: what JetStream reports as a stream's leader and replicas. */
  names: string[];
  /** HTTP monitoring endpoints of the nodes, in node order (`/connz` lists who is connected to a node). */
  monitorUrls: string[];
  /** The nodes themselves, e.g. to start a killed one again on its port and store. */
  nodes: OwnServer[];
  /** Kills node `index` at once (SIGKILL: no shutdown, no lame-duck mode). */
  kill(index: number): Promise<void>;
  /** Kills every node and removes their stores. */
  stop(): Promise<void>;
}

/**
 * `size` nats-servers with JetStream on free ports, routed to each other as one cluster, each with its own store
 * directory and a unique server name (JetStream clustering requires both). Resolves once the cluster has a meta
 * leader and every node takes part, proven by creating (and deleting) a stream with `size` replicas.
 */
export async function startOwnNatsCluster(
  size = 3,
  options: { readyTimeoutMs?: number } = {},
): Promise<OwnNatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "shop-nats-cluster-"));
  const clusterName = `shop-test-${dir.slice(-6).toLowerCase()}`;
  const ports: Array<{ client: number; route: number; monitor: number }> = [];
  for (let i = 0; i < size; i++) {
    ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() });
  }
  const names = ports.map((_, i) => `${clusterName}-n${i + 1}`);
  const nodes = ports.map(({ client, route, monitor }, i) => {
    const store = join(dir, names[i] as string);
    mkdirSync(store);
    const routes = ports.filter((_, j) => j !== i).map((other) => `nats://127.0.0.1:${other.route}`);
    return ownServer(client, `nats://127.0.0.1:${client}`, "/usr/sbin/nats-server", [
      ...["-a", "127.0.0.1", "-p", String(client), "-m", String(monitor), "-n", names[i] as string],
      ...["-js", "-sd", store],
      ...["--cluster_name", clusterName, "--cluster", `nats://127.0.0.1:${route}`, "--routes", routes.join(",")],
    ]);
  });
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await waitForJetStreamCluster(
      nodes.map((node) => node.url),
      size,
      options.readyTimeoutMs ?? 30_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    urls: nodes.map((node) => node.url),
    names,
    monitorUrls: ports.map(({ monitor }) => `http://127.0.0.1:${monitor}`),
    nodes,
    kill: async (index) => {
      const node = nodes[index];
      if (node === undefined) throw new Error(`the cluster has no node ${index}`);
      await node.kill();
    },
    stop,
  };
}

/** Until a stream with `replicas` copies can be made: only then has JetStream a meta leader and every peer. */
async function waitForJetStreamCluster(servers: string[], replicas: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
    const probe = `CLUSTER_PROBE_${process.pid}`;
    for (;;) {
      try {
        await jsm.streams.add({
          name: probe,
          subjects: [`_probe.${probe}`],
          num_replicas: replicas,
          storage: StorageType.Memory,
        });
        await jsm.streams.delete(probe);
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`no JetStream cluster of ${replicas} after ${timeoutMs} ms: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
