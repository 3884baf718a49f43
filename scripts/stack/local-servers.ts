// The servers the services use, found or started by `npm start`: a URL given in the environment wins; else a server
// already answering on its local port (SHOP_POSTGRES_PORT, SHOP_NATS_PORT, SHOP_REDIS_PORT, defaults 5432, 4222,
// 6379) is used; else the launcher starts one: PostgreSQL embedded (PGlite), `nats-server -js` and `redis-server` from
// the PATH, each bound to 127.0.0.1 with its data under the data directory.
import { accessSync, constants, mkdirSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import type { ChildSupervisor } from "./child-supervisor.js";
import { repoRoot } from "./stack-services.js";

export type ServerName = "postgres" | "nats" | "redis";

export interface LocalServersOptions {
  dataDir: string;
  /** Which servers the chosen services use. */
  needs: ReadonlySet<ServerName>;
  env?: NodeJS.ProcessEnv;
}

export interface LocalServers {
  /** Variables for every service: where PostgreSQL, NATS and Redis are. */
  env: Record<string, string>;
  /** One line per server for the launcher's summary. */
  summary: string[];
}

/** What each service of the stack connects to. */
export const serversOf: Record<string, ServerName[]> = {
  products: ["postgres", "nats"],
  inventory: ["redis", "nats"],
  search: ["nats"],
  orders: ["nats"],
  gateway: ["redis", "nats"],
};

const binaries = { nats: "nats-server", redis: "redis-server" } as const;
const packages = {
  nats: { apt: "nats-server", brew: "nats-server" },
  redis: { apt: "redis-server", brew: "redis" },
} as const;
const titles: Record<ServerName, string> = { postgres: "PostgreSQL", nats: "NATS", redis: "Redis" };
const defaultPorts: Record<ServerName, number> = { postgres: 5432, nats: 4222, redis: 6379 };
const urlVariables: Record<ServerName, string> = {
  postgres: "SHOP_DATABASE_URL",
  nats: "SHOP_NATS_URL",
  redis: "SHOP_REDIS_URL",
};

/** Whether something accepts TCP connections on the port of 127.0.0.1. */
export function answers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const settle = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => settle(false));
    socket.once("connect", () => settle(true));
    socket.once("error", () => settle(false));
  });
}

/**
 * An executable on the PATH, else in the sbin folders: Debian installs nats-server in /usr/sbin, which a normal
 * user's PATH leaves out.
 */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  const folders = [...path.split(delimiter).filter(Boolean), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const folder of folders) {
    try {
      accessSync(join(folder, name), constants.X_OK);
      return join(folder, name);
    } catch {}
  }
  return undefined;
}

/** What to do when servers are needed, nothing answers on their ports and their binaries are not installed. */
export function missingServersMessage(missing: Array<{ server: "nats" | "redis"; port: number }>): string {
  const names = missing.map(({ server }) => binaries[server]);
  return [
    `npm start needs ${missing.map(({ server, port }) => `${titles[server]} (nothing answers on 127.0.0.1:${port})`).join(" and ")}, and ${names.join(" and ")} ${names.length > 1 ? "are" : "is"} not installed.`,
    "Install, then run npm start again:",
    `  Debian/Ubuntu:  sudo apt-get install ${missing.map(({ server }) => packages[server].apt).join(" ")}`,
    `  macOS:          brew install ${missing.map(({ server }) => packages[server].brew).join(" ")}`,
    `Or point ${missing.map(({ server }) => urlVariables[server]).join(" / ")} at servers of your own (NATS with JetStream),`,
    "or run the whole stack in containers instead: docker compose up (see Docker Compose in README.md).",
  ].join("\n");
}

/** Waits until the child started as `name` accepts connections on `port`; fails if it exits first. */
async function waitForPort(supervisor: ChildSupervisor, name: string, port: number, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!supervisor.running(name)) throw new Error(`${name} exited during start; see its log lines above`);
    if (await answers(port, 500)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not accept connections on 127.0.0.1:${port} after ${timeoutMs / 1000} s`);
}

/**
 * Finds or starts each server in `needs`; the ones it starts run under `supervisor` (they stop after the services).
 * Throws with the install commands when a server binary is missing.
 */
export async function startLocalServers(
  supervisor: ChildSupervisor,
  options: LocalServersOptions,
): Promise<LocalServers> {
  const given = options.env ?? process.env;
  const servers = (["postgres", "nats", "redis"] as const).filter((server) => options.needs.has(server));
  const plans = await Promise.all(
    servers.map(async (server) => {
      const port = Number(given[`SHOP_${server.toUpperCase()}_PORT`] || defaultPorts[server]);
      if (given[urlVariables[server]]) return { server, port, use: "given" as const };
      return { server, port, use: (await answers(port)) ? ("running" as const) : ("start" as const) };
    }),
  );

  const missing = plans.flatMap((plan) =>
    plan.use === "start" &&
    plan.server !== "postgres" &&
    findExecutable(binaries[plan.server], given.PATH) === undefined
      ? [{ server: plan.server, port: plan.port }]
      : [],
  );
  if (missing.length > 0) throw new Error(missingServersMessage(missing));

  const env: Record<string, string> = {};
  const summary = await Promise.all(
    plans.map(async ({ server, port, use }) => {
      const dataDir = join(options.dataDir, server);
      if (use === "given") return `${titles[server]}: ${urlVariables[server]}`;
      if (use === "running") {
        // The database `npm start` has always used on a local PostgreSQL: `test`, trust authentication.
        env[urlVariables[server]] =
          server === "postgres" ? `postgres://postgres@127.0.0.1:${port}/test` : `${server}://127.0.0.1:${port}`;
        return `${titles[server]}: already running on 127.0.0.1:${port}`;
      }
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (server === "postgres") {
        const entry = join(repoRoot, "scripts", "stack", "embedded-postgres-server.ts");
        supervisor.start(server, process.execPath, ["--import", "tsx", entry, dataDir, String(port)], {
          tier: "server",
        });
        env.SHOP_DATABASE_URL = `postgres://postgres@127.0.0.1:${port}/postgres`;
        // PGlite is one session: a second pooled connection would only queue behind the first's transactions.
        env.SHOP_DATABASE_POOL_SIZE = "1";
      } else if (server === "nats") {
        const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dataDir];
        supervisor.start(server, findExecutable(binaries.nats, given.PATH) ?? binaries.nats, args, { tier: "server" });
        env.SHOP_NATS_URL = `nats://127.0.0.1:${port}`;
      } else {
        const args = ["--bind", "127.0.0.1", "--port", String(port), "--dir", dataDir, "--loglevel", "warning"];
        supervisor.start(server, findExecutable(binaries.redis, given.PATH) ?? binaries.redis, args, {
          tier: "server",
        });
        env.SHOP_REDIS_URL = `redis://127.0.0.1:${port}`;
      }
      await waitForPort(supervisor, server, port);
      const what = server === "postgres" ? "embedded (PGlite)" : binaries[server];
      return `${titles[server]}: ${what} on 127.0.0.1:${port}, data in ${dataDir}`;
    }),
  );
  return { env, summary };
}
