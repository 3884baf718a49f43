// Servers a fault-injection test owns and may kill: never the shared ones.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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

function ownServer(port: number, url: string, command: string, args: string[], dir?: string): OwnServer {
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
      child = spawn(command, args, { stdio: "ignore" });
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

/** A nats-server with JetStream on its own store directory, which survives a kill and restart. */
export async function startOwnNats(): Promise<OwnServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "shop-nats-"));
  const server = ownServer(
    port,
    `nats://127.0.0.1:${port}`,
    "/usr/sbin/nats-server",
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir],
    dir,
  );
  await server.start();
  return server;
}
