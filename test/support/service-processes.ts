// Services as a deployment runs them: each `services/<name>/src/main.ts` in a process of its own, on its own port,
// so a test can run several replicas, SIGKILL one, and start it again.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** One service process; `output` keeps the tail of what it printed, for the message of a failed start. */
export interface ServiceProcess {
  /** e.g. "orders-b". */
  label: string;
  service: string;
  port: number;
  url: string;
  env: Record<string, string>;
  child: ChildProcess;
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<string>;
  output(): string;
}

/**
 * Starts `services/<service>/src/main.ts` with only `env` (plus PATH) and SHOP_PORT = `port`. The stripe emulator
 * reads SHOP_STRIPE_EMULATOR_PORT instead; it is set from `port` too.
 */
export function spawnService(
  label: string,
  service: string,
  port: number,
  env: Record<string, string>,
): ServiceProcess {
  const fullEnv: Record<string, string> = { PATH: process.env.PATH ?? "", ...env, SHOP_PORT: String(port) };
  if (service === "stripe-emulator") fullEnv.SHOP_STRIPE_EMULATOR_PORT = String(port);
  const child = spawn(process.execPath, ["--import", "tsx", join("services", service, "src", "main.ts")], {
    cwd: root,
    env: fullEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? String(code)));
  });
  return { label, service, port, url: `http://127.0.0.1:${port}`, env, child, exited, output: () => tail };
}

/** Waits until the process answers `path` with 200; fails at once, with its output, if it exits first. */
export async function waitUntilReady(proc: ServiceProcess, timeoutMs = 90_000, path = "/readyz"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void proc.exited.then((how) => {
    exit = how;
  });
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`${proc.label} exited (${exit}) during its start:\n${proc.output()}`);
    const answer = await fetch(`${proc.url}${path}`).catch(() => undefined);
    if (answer?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${proc.label} was not ready on ${proc.url} after ${timeoutMs} ms:\n${proc.output()}`);
}

/** SIGKILL, as a crash or the OOM killer ends a process: no shutdown hook runs. Resolves once it is gone. */
export async function killHard(proc: ServiceProcess): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
  await proc.exited;
}

/**
 * Stops every process: SIGTERM (graceful shutdown), then SIGKILL for one still running after `graceMs`. Resolves once
 * all have exited, so a test leaves none behind.
 */
export async function stopProcesses(procs: ServiceProcess[], graceMs = 15_000): Promise<void> {
  await Promise.all(
    procs.map(async (proc) => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
      proc.child.kill("SIGTERM");
      const timer = setTimeout(() => proc.child.kill("SIGKILL"), graceMs);
      await proc.exited;
      clearTimeout(timer);
    }),
  );
}
