import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { freePort } from "@shop/platform/testing";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

/** A service's `main.ts` running as its own process, as `npm start` runs it. */
export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM (a graceful shutdown, relay included) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts services/<name>/src/main.ts on a free port with `env` (e.g. `createTestEnv().serviceEnv` plus keys) and waits
 * for /readyz, so a benchmark measures the service as deployed rather than sharing its event loop. `nodeArgs` go before
 * the script (e.g. `--cpu-prof`); `script` runs another entry (a baseline server) the same way.
 */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
  options: { nodeArgs?: string[]; script?: string } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", options.script ?? join("services", name, "src", "main.ts")],
    {
      cwd: root,
      env: { ...process.env, ...env, SHOP_LOG_LEVEL: process.env.SHOP_LOG_LEVEL ?? "warn", SHOP_PORT: String(port) },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the ${name} process exited during start`);
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, child, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`the ${name} process was not ready after 30 s`);
}

/**
 * Runs `command` to its end with stderr passed through and resolves to what it printed on stdout; rejects, naming it
 * `name`, when it cannot start or exits with anything but 0. `env` goes on top of this process's environment.
 */
export function outputOf(command: string, args: string[], name: string, env?: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: env && { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} exited ${code}: ${out}`))));
  });
}
