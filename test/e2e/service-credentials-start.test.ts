// Acceptance for issue 8's "no built-in secrets" and "a bad static key lists the config problem": the real service
// entries, started as a deployment starts them, refuse to run without their token keys (outside development mode)
// or with a malformed SHOP_STATIC_API_KEYS, exit 1 listing the problem and print no stack trace; in development mode
// they start with a random key and say so.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestEnv, freePort, type TestEnv, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const stackTrace = /^\s+at .+:\d+:\d+\)?$/m;
let env: TestEnv;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `services/<name>/src/main.ts` with only `vars` (plus PATH) in its environment; `whileRunning` may act on the
 * live process (e.g. probe it, then stop it). A process still running after `timeoutMs` is killed.
 */
function runService(
  name: string,
  vars: Record<string, string>,
  options: { timeoutMs?: number; whileRunning?: (output: () => string) => Promise<void> } = {},
): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", join("services", name, "src", "main.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...vars },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const exited = new Promise<Run>((resolve) => {
    child.once("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
  if (options.whileRunning) {
    options
      .whileRunning(() => stdout + stderr)
      .then(
        () => child.kill("SIGTERM"),
        () => child.kill("SIGKILL"),
      );
  }
  return exited;
}

/** What a deployment gives every service, without any credential. */
function deploymentEnv(): Record<string, string> {
  return {
    SHOP_NAMESPACE: env.namespace,
    SHOP_NATS_URL: env.natsUrl,
    SHOP_REDIS_URL: env.redisUrl,
    SHOP_REDIS_PREFIX: env.redisPrefix,
    SHOP_DATABASE_URL: env.postgresSchemaUrl,
    SHOP_PORT: "0",
    SHOP_LOG_LEVEL: "info",
  };
}

const validKeys = () => `k1:${randomBytes(48).toString("base64url")}`;

beforeAll(async () => {
  env = await createTestEnv();
});

afterAll(async () => {
  await env?.cleanup();
});

describe("a service process and its credentials", () => {
  for (const service of ["inventory", "products", "search", "gateway"]) {
    it(`${service} refuses to start without SHOP_TOKEN_KEYS, listing it with the other problems`, async () => {
      const run = await runService(service, { ...deploymentEnv(), SHOP_NATS_URL: "http://not-nats" });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/SHOP_TOKEN_KEYS is required: set it to <kid>:<secret>/);
      expect(run.stderr).toContain("SHOP_NATS_URL=http://not-nats must use nats: or tls:");
      expect(run.stderr).not.toMatch(stackTrace);
    }, 40_000);
  }

  it("refuses a built-in or guessable secret as a token key", async () => {
    const run = await runService("inventory", {
      ...deploymentEnv(),
      SHOP_TOKEN_KEYS: "k1:dev-only-secret-change-me",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the secret of key "k1" is too short/);
    expect(run.stderr).not.toContain("dev-only-secret-change-me");
    expect(run.stderr).not.toMatch(stackTrace);
  }, 40_000);

  it("lists a malformed SHOP_STATIC_API_KEYS as a config problem, without a stack trace or the key", async () => {
    const key = `sk_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
    const run = await runService("inventory", {
      ...deploymentEnv(),
      SHOP_TOKEN_KEYS: validKeys(),
      SHOP_STATIC_API_KEYS: `operator:${key},${key}`,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/SHOP_STATIC_API_KEYS must be role:sk_<id>_<secret>.*entry 2 must start with a role/);
    expect(run.stderr).not.toContain(key.slice(16));
    expect(run.stderr).not.toMatch(stackTrace);
  }, 40_000);

  it("starts in development mode without a key, on a random key of its own, and warns", async () => {
    const port = await freePort();
    let ready = false;
    const run = await runService(
      "inventory",
      { ...deploymentEnv(), SHOP_DEV_MODE: "1", SHOP_PORT: String(port) },
      {
        whileRunning: async () => {
          await waitFor(
            async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true,
            30_000,
            "inventory ready in development mode",
          );
          ready = true;
        },
      },
    );
    expect(ready).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/"level":40.*development mode: no SHOP_TOKEN_KEYS/);
  }, 60_000);
});
