// The embedded PostgreSQL of `npm start` (scripts/stack/embedded-postgres-server.ts: PGlite behind pglite-socket) as
// the products service uses it. PGlite is one session shared by every connection, which a real server never is: a
// statement prepared by a closed connection is still there, and a NOTIFY comes back on the connection that committed.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createLogger } from "@shop/platform";
import { freePort, waitFor } from "@shop/platform/testing";
import { createDatabase, createOutboxSource, migrationFiles, runMigrations } from "@shop/products/internal";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
let dataDir: string;
let port: number;
let server: ChildProcess | undefined;

/** Starts the embedded server as the launcher does and waits for its "listening" line. */
async function startServer(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(root, "scripts", "stack", "embedded-postgres-server.ts"), dataDir, String(port)],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.startsWith("listening")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the embedded PostgreSQL exited ${code}`)));
  });
  return child;
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, "exit");
  server.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  server = undefined;
  return code;
}

const url = () => `postgres://postgres@127.0.0.1:${port}/postgres`;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shop-embedded-postgres-"));
  port = await freePort();
  server = await startServer();
}, 120_000);

afterAll(async () => {
  await stopServer();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 30_000);

describe("the embedded PostgreSQL, as products uses it", () => {
  it("applies every products migration, once", async () => {
    const database = createDatabase(url(), { poolSize: 1 });
    try {
      expect(await runMigrations(database)).toEqual(await migrationFiles());
      expect(await runMigrations(database)).toEqual([]);
    } finally {
      await database.close();
    }
  }, 60_000);

  it("lets a new connection prepare a statement that a closed connection had prepared under the same name", async () => {
    for (const round of [1, 2]) {
      const database = createDatabase(url(), { poolSize: 1 });
      try {
        const { rows } = await sql<{
          round: number;
        }>`/* prepared as quick_start_probe */ select ${round}::int as round`.execute(database.db);
        expect(rows).toEqual([{ round }]);
      } finally {
        await database.close();
      }
    }
  }, 30_000);

  it("wakes the outbox relay when a write commits, though the NOTIFY arrives on the writing connection", async () => {
    const database = createDatabase(url(), { poolSize: 1 });
    const source = createOutboxSource({
      pool: database.pool,
      connectionString: database.url,
      logger: createLogger("test", "silent"),
      pruneEveryMs: 0,
    });
    try {
      expect(await source.claim(10)).toBeUndefined();
      // The LISTEN connection has joined the one session once the session lists the channel.
      await waitFor(
        async () => (await database.pool.query("select pg_listening_channels() as channel")).rows.length > 0,
        20_000,
        "the relay listening",
      );
      // Far longer than the test may run: only a wake-up ends this wait.
      const woken = source.waitForWork(3_600_000, new AbortController().signal);
      await database.pool.query(
        `insert into outbox (event_id, aggregate_id, aggregate_version, subject, type_name, data)
         values ('evt-1', 'prd-1', 1, 'products.created', 'shop.products.v1.ProductCreated', '\\x00')`,
      );
      await woken;
      const batch = await source.claim(10);
      expect(batch?.events.map((event) => event.eventId)).toEqual(["evt-1"]);
      await batch?.markPublished();
    } finally {
      await source.close();
      await database.close();
    }
  }, 30_000);

  it("stops on SIGTERM and keeps its data for the next start", async () => {
    expect(await stopServer()).toBe(0);
    server = await startServer();
    const database = createDatabase(url(), { poolSize: 1 });
    try {
      const { rows } = await database.pool.query<{ count: string }>(
        "select count(*) as count from outbox where publish_time is not null",
      );
      expect(rows[0]?.count).toBe("1");
    } finally {
      await database.close();
    }
  }, 120_000);
});
