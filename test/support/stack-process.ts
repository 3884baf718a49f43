// `npm start` (scripts/start-stack.ts) as the e2e tests run it: a launcher process on the test's ports and data
// directory, in a process group of its own so a test can stop everything it started, and the process tree below it,
// read from `ps`, to check that nothing outlives the test.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "@shop/platform/testing";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The environment of a fresh machine: none of the SHOP_* variables of the test run, nor npm's of `npm test`. */
export function freshEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([name]) => !name.startsWith("SHOP_") && !name.startsWith("npm_"));
  return { ...Object.fromEntries(kept), ...extra };
}

/** Distinct free ports, one per name. */
export async function freePorts<const N extends string>(names: readonly N[]): Promise<Record<N, number>> {
  const taken = new Set<number>();
  while (taken.size < names.length) taken.add(await freePort());
  const ports = [...taken];
  return Object.fromEntries(names.map((name, i) => [name, ports[i]])) as Record<N, number>;
}

/** The launcher's `SHOP_<NAME>_PORT` variables for `ports`. */
export const portEnv = (ports: Record<string, number>): Record<string, string> =>
  Object.fromEntries(Object.entries(ports).map(([name, port]) => [`SHOP_${name}_PORT`, String(port)]));

/** Every process below `pid`, read from `ps`, children before grandchildren. */
export function descendantsOf(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map(Number);
  } catch {
    // ps exits 1 when there are none.
  }
  return children.flatMap((child) => [child, ...descendantsOf(child)]);
}

export const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A started launcher; `ready` resolves once it prints that the stack runs, and rejects if it exits first. */
export interface StackProcess {
  child: ChildProcess;
  /** Every line the launcher printed on its standard output. */
  output: string[];
  ready: Promise<void>;
  /** SIGTERM to the whole process group, SIGKILL after 20 s; resolves once the launcher has exited. */
  stop(): Promise<void>;
}

/** Where a test runs the stack. */
export interface StackOptions {
  /** The test's namespace on the shared PostgreSQL, NATS and Redis: `createTestEnv().serviceEnv`. */
  serviceEnv: Record<string, string>;
  /** SHOP_DATA_DIR: the keys the launcher writes, the mail outbox, the search snapshots. */
  dataDir: string;
  /** Each service's port by SHOP_<NAME>_PORT name, e.g. `{ GATEWAY: 41234 }`. */
  ports: Record<string, number>;
  /** More of the launcher's environment, e.g. SHOP_CORS_ORIGINS. */
  env?: Record<string, string>;
  /** The Node.js binary of the launcher, and so of every process it starts. Default: the test's own. */
  node?: string;
}

/**
 * Starts scripts/start-stack.ts as `npm start` does, with every service but the storefront and without the sample
 * catalog (a test counts the products it creates). It is returned before it is ready, so a test can stop it even
 * when the start fails.
 */
export function spawnStack(options: StackOptions): StackProcess {
  const node = options.node ?? process.execPath;
  const child = spawn(node, ["--import", "tsx", join(root, "scripts", "start-stack.ts")], {
    cwd: root,
    // Its own process group, so cleanup reaches every service even if the launcher itself is gone.
    detached: true,
    env: freshEnv({
      ...options.serviceEnv,
      SHOP_DATA_DIR: options.dataDir,
      SHOP_SERVICES: "products,inventory,search,stripe-emulator,orders,gateway",
      SHOP_SAMPLE_CATALOG: "0",
      ...portEnv(options.ports),
      ...options.env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  let log = "";
  child.stderr?.on("data", (chunk) => {
    log = (log + chunk).slice(-4000);
  });
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      output.push(line);
      if (line.startsWith("Shop is running")) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`npm start exited ${code}:\n${output.slice(-40).join("\n")}\n${log}`)),
    );
  });
  // A start that fails is reported through `ready`; the exit after a stop is not a failure of anyone's.
  ready.catch(() => undefined);
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    process.kill(-child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {}
    }, 20_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, output, ready, stop };
}
