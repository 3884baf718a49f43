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

/** The services of a whole stack, in the order a deployment lists them. */
export const stackServices = ["products", "inventory", "search", "orders", "gateway"] as const;
export type StackService = (typeof stackServices)[number];

export interface StackServiceEnvOptions {
  /** What every service gets: the test environment's keys and servers, log level, static API keys. */
  shared: Record<string, string>;
  /** Where a service is reached: one URL, or a comma-separated list of its replicas. */
  upstream: (service: Exclude<StackService, "gateway">) => string;
  /** Orders' own settings: its service key, Stripe (the emulator) and the mail outbox. */
  orders: {
    serviceKey: string;
    stripeKey: string;
    webhookSecret: string;
    stripeApiUrl: string;
    mailOutboxDir: string;
    /** Anything else orders should run with, e.g. shorter recovery timings. */
    extra?: Record<string, string>;
  };
}

/** Each service's environment for a stack of processes: `shared`, then what that service needs of its own. */
export function stackServiceEnv(options: StackServiceEnvOptions): Record<StackService, Record<string, string>> {
  const { shared, upstream, orders } = options;
  return {
    products: { ...shared },
    inventory: { ...shared },
    search: { ...shared, SHOP_SEARCH_BACKEND: "embedded" },
    orders: {
      ...shared,
      SHOP_SERVICE_KEY: orders.serviceKey,
      SHOP_UPSTREAM_INVENTORY: upstream("inventory"),
      SHOP_STRIPE_SECRET_KEY: orders.stripeKey,
      SHOP_STRIPE_WEBHOOK_SECRET: orders.webhookSecret,
      SHOP_STRIPE_API_URL: orders.stripeApiUrl,
      SHOP_MAIL_OUTBOX_DIR: orders.mailOutboxDir,
      ...orders.extra,
    },
    gateway: {
      ...shared,
      SHOP_UPSTREAM_PRODUCTS: upstream("products"),
      SHOP_UPSTREAM_INVENTORY: upstream("inventory"),
      SHOP_UPSTREAM_SEARCH: upstream("search"),
      SHOP_UPSTREAM_ORDERS: upstream("orders"),
    },
  };
}
