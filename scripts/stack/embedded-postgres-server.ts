// The embedded PostgreSQL of `npm start`, in a process of its own: PGlite (PostgreSQL compiled to WebAssembly) behind
// pglite-socket, so the products service's `pg` driver reaches it over TCP as it would a real server. PGlite runs
// every query on this process's one thread; in the launcher it would stall the launcher's own work.
//
// Usage: node --import tsx embedded-postgres-server.ts <data dir> <port>
// Prints "listening" once connections are accepted; SIGTERM or SIGINT closes the database cleanly.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const [dataDir, portText] = process.argv.slice(2);
const port = Number(portText);
if (!dataDir || !Number.isInteger(port) || port <= 0) {
  process.stderr.write("usage: embedded-postgres-server.ts <data dir> <port>\n");
  process.exit(2);
}

mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const db = await PGlite.create({ dataDir });
// PGlite is one session: every connection shares it, and a query of one connection waits while another holds a
// transaction open. Products uses two: its pool of one and its outbox relay's LISTEN connection, which only waits
// for notifications. The rest is headroom for a connection that replaces one not yet closed (beyond the limit a
// connection is dropped unanswered).
const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, maxConnections: 8 });
await server.start();
process.stdout.write(`listening on 127.0.0.1:${port}, data in ${dataDir}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
