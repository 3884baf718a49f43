// The processes `npm start` runs, and how they stop: services and the storefront first, then the servers they use
// (PostgreSQL, NATS, Redis), so no service loses its database or NATS while it drains. A watchdog process stops them
// all if the launcher itself dies without stopping them (SIGKILL, a crash).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./stack-services.js";

/** Services and the storefront stop first; the servers they use stop after them. */
export type ChildTier = "app" | "server";

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default "app". */
  tier?: ChildTier;
}

export interface ChildSupervisor {
  /** Starts a long-running child; its output lines are prefixed with `name`. Its exit stops the whole stack. */
  start(name: string, command: string, args: string[], options?: ChildOptions): ChildProcess;
  /** Runs a child to its end (e.g. a CLI command) and returns its exit code and standard output. */
  run(name: string, command: string, args: string[], options?: ChildOptions): Promise<{ code: number; stdout: string }>;
  /** Whether the named long-running child is still running. */
  running(name: string): boolean;
  /** Whether stopAll has been called. */
  readonly stopping: boolean;
  /** Stops every child, apps before servers, then exits the launcher with `code`. Later calls do nothing. */
  stopAll(code: number): void;
}

const stopGraceMs = 15_000;

/** Thrown when something is started while the stack stops (a signal arrived during the start). */
export class StackStoppingError extends Error {
  override name = "StackStoppingError" as const;
  constructor() {
    super("the stack is stopping");
  }
}

export function isStackStoppingError(err: unknown): err is StackStoppingError {
  return err instanceof Error && err.name === "StackStoppingError";
}

/** Each line of a child's output, prefixed with its name; JSON log lines (pino) shortened to level and message. */
function prefixLines(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) {
  const lines = createInterface({ input: stream });
  lines.on("line", (line) => {
    let text = line;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const level = entry.level && entry.level >= 50 ? "ERROR " : entry.level && entry.level >= 40 ? "WARN " : "";
      text = `${level}${entry.msg ?? line}${entry.err?.message ? `: ${entry.err.message}` : ""}`;
    } catch {}
    out.write(`[${name.padEnd(9)}] ${text}\n`);
  });
}

/** The watchdog learns each child's pid through its stdin, which closes when the launcher dies, however it dies. */
function startWatchdog(): ChildProcess {
  const watchdog = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "scripts", "stack", "stack-watchdog.ts")],
    {
      cwd: repoRoot,
      stdio: ["pipe", "ignore", "inherit"],
    },
  );
  // A watchdog that failed to start must not take the launcher with it: the stack then runs unguarded.
  watchdog.stdin?.on("error", () => undefined);
  return watchdog;
}

export function createChildSupervisor(): ChildSupervisor {
  const children = new Map<string, { child: ChildProcess; tier: ChildTier }>();
  const tasks = new Set<ChildProcess>();
  // Started with the first child, so a launcher that stops before starting anything leaves nothing behind.
  let watchdog: ChildProcess | undefined;
  const tell = (line: string) => {
    watchdog ??= startWatchdog();
    if (watchdog.stdin?.writable) watchdog.stdin.write(`${line}\n`);
  };
  let stopping = false;

  const spawnChild = (name: string, command: string, args: string[], options: ChildOptions) => {
    if (stopping) throw new StackStoppingError();
    const tier = options.tier ?? "app";
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      // A server in a process group of its own does not get the terminal's Ctrl-C: it stops after the services.
      detached: tier === "server",
    });
    if (child.pid !== undefined) tell(`+${tier} ${child.pid}`);
    child.once("exit", () => {
      if (child.pid !== undefined) tell(`-${child.pid}`);
    });
    // A binary that cannot be spawned reports here (and then exits with no code); the exit handler stops the stack.
    child.on("error", (err) => process.stderr.write(`[${name}] ${err.message}\n`));
    return child;
  };

  const waitForExit = (processes: ChildProcess[], timeoutMs: number) =>
    Promise.race([
      Promise.all(
        processes
          .filter((child) => child.exitCode === null && child.signalCode === null)
          .map((child) => new Promise((resolve) => child.once("exit", resolve))),
      ),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);

  const stopTier = async (stopped: ChildProcess[]) => {
    for (const child of stopped) child.kill("SIGTERM");
    await waitForExit(stopped, stopGraceMs);
    for (const child of stopped) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await waitForExit(stopped, 2_000);
  };

  const supervisor: ChildSupervisor = {
    start(name, command, args, options = {}) {
      const tier = options.tier ?? "app";
      const child = spawnChild(name, command, args, options);
      children.set(name, { child, tier });
      if (child.stdout) prefixLines(name, child.stdout, process.stdout);
      if (child.stderr) prefixLines(name, child.stderr, process.stderr);
      const ended = (how: string) => {
        children.delete(name);
        if (!stopping) {
          process.stderr.write(`[${name}] ${how}; stopping the stack\n`);
          supervisor.stopAll(1);
        }
      };
      child.once("exit", (code, signal) => ended(`exited (${signal ?? code})`));
      // A child that could not be spawned at all never exits.
      child.once("error", () => child.pid === undefined && ended("did not start"));
      return child;
    },

    run(name, command, args, options = {}) {
      const child = spawnChild(name, command, args, options);
      tasks.add(child);
      let stdout = "";
      child.stdout?.on("data", (chunk) => {
        stdout += chunk;
      });
      if (child.stderr) prefixLines(name, child.stderr, process.stderr);
      return new Promise((resolve) => {
        child.once("close", (code) => {
          tasks.delete(child);
          resolve({ code: code ?? 1, stdout });
        });
      });
    },

    running: (name) => children.has(name),

    get stopping() {
      return stopping;
    },

    stopAll(code) {
      if (stopping) return;
      stopping = true;
      const inTier = (tier: ChildTier) =>
        [...children.values()].filter((entry) => entry.tier === tier).map((entry) => entry.child);
      (async () => {
        await stopTier([...tasks, ...inTier("app")]);
        await stopTier(inTier("server"));
        if (watchdog !== undefined) {
          tell("done");
          watchdog.stdin?.end();
          await waitForExit([watchdog], 5_000);
        }
        process.exit(code);
      })();
    },
  };
  return supervisor;
}
