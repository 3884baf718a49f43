// Stops what `npm start` started when the launcher dies without doing it (SIGKILL, a crash, an out-of-memory kill).
// The launcher writes `+<tier> <pid>` for each child it starts, `-<pid>` when one exits and `done` once it has
// stopped them itself; its end of this process's stdin closes however it dies, so no polling is needed to notice.
import { createInterface } from "node:readline";

/** Pid → tier ("app" stops before "server", as the launcher stops them). */
const pids = new Map<number, string>();
let done = false;

// Ctrl-C reaches this process too (it shares the terminal's process group); it stays to guard until the launcher
// says it has stopped everything.
process.on("SIGINT", () => undefined);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stop(tier: string) {
  const stopped = [...pids].filter(([, of]) => of === tier).map(([pid]) => pid);
  for (const pid of stopped) if (alive(pid)) process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && stopped.some(alive)) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const pid of stopped) if (alive(pid)) process.kill(pid, "SIGKILL");
}

createInterface({ input: process.stdin })
  .on("line", (line) => {
    const [sign, first, second] = [line[0], ...line.slice(1).split(" ")];
    if (line === "done") done = true;
    else if (sign === "+" && first && Number.isInteger(Number(second))) pids.set(Number(second), first);
    else if (sign === "-") pids.delete(Number(first));
  })
  .on("close", async () => {
    if (!done) {
      await stop("app");
      await stop("server");
    }
    process.exit(0);
  });
