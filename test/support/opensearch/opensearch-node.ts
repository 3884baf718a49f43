// A real OpenSearch node for tests: OPENSEARCH_URL when set, else the Maven launcher next to this file, started once
// per test process and stopped when the process ends (or by `stop`). Missing java/mvn skips the OpenSearch suites,
// unless SHOP_REQUIRE_ALL=1 (CI), where it is a failure.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface OpenSearchNode {
  url: string;
  /** Stops a node this helper started; a node given by OPENSEARCH_URL is left alone. */
  stop(): Promise<void>;
}

const dir = import.meta.dirname ?? new URL(".", import.meta.url).pathname;
const startScript = join(dir, "start.sh");
const launcherJar = join(dir, "target", "opensearch-launcher-1.0.0.jar");
/** The first start builds the launcher and downloads ~90 MB from Maven Central. */
const startTimeoutMs = 5 * 60_000;

function available(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

/** Why a local node cannot start here, or undefined when it can. */
function missingTools(): string | undefined {
  if (!available("java", ["-version"])) return "java is not installed";
  if (!existsSync(launcherJar) && !available("mvn", ["-v"]))
    return "mvn is not installed (needed to build the launcher)";
  return undefined;
}

export interface OpenSearchNodeOptions {
  /** JVM heap (-Xms/-Xmx). Default 512m (start.sh): enough for the tests' small indices. */
  heap?: string;
  /** Extra JVM flags; a `-XX:+Use…GC` here replaces start.sh's serial collector. Default none. */
  javaOpts?: string;
}

function launch(options: OpenSearchNodeOptions = {}): Promise<OpenSearchNode> {
  const env = { ...process.env };
  if (options.heap) env.OPENSEARCH_HEAP = options.heap;
  if (options.javaOpts) env.OPENSEARCH_JAVA_OPTS = options.javaOpts;
  return new Promise((resolve, reject) => {
    // stdin stays an open pipe: the launcher exits when it reaches EOF, i.e. when this process goes away.
    const child: ChildProcess = spawn(startScript, [], { stdio: ["pipe", "pipe", "pipe"], env });
    let stdout = "";
    let stderrTail = "";
    const timer = setTimeout(
      () => fail(new Error(`OpenSearch did not start in ${startTimeoutMs / 1000} s`)),
      startTimeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${err.message}\n${stderrTail}`));
    };
    child.stderr?.on("data", (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-4_000);
      if (process.env.OPENSEARCH_LOG === "1") process.stderr.write(chunk);
    });
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`OpenSearch launcher exited with ${code} before it was ready`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^OPENSEARCH_READY (\S+)$/m.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      resolve({
        url: match[1] as string,
        async stop() {
          child.stdin?.end();
          const killer = setTimeout(() => child.kill("SIGTERM"), 20_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/**
 * A node of its own with the given JVM settings (benchmarks size the heap for their catalog), or the one OPENSEARCH_URL
 * names; undefined when none can run here.
 */
export async function startOpenSearchNode(options: OpenSearchNodeOptions = {}): Promise<OpenSearchNode | undefined> {
  const given = process.env.OPENSEARCH_URL;
  if (given) return { url: given, stop: async () => undefined };
  const missing = missingTools();
  if (missing) {
    if (process.env.SHOP_REQUIRE_ALL === "1") throw new Error(`OpenSearch required but ${missing}`);
    process.stderr.write(`skipping OpenSearch: ${missing}\n`);
    return undefined;
  }
  return launch(options);
}

let shared: Promise<OpenSearchNode | undefined> | undefined;

/**
 * The node tests should use, or undefined when none can run here (the caller skips its OpenSearch suite). Started
 * once per process; concurrent callers share it.
 */
export function openSearchForTests(): Promise<OpenSearchNode | undefined> {
  shared ??= startOpenSearchNode();
  return shared;
}

/**
 * Vitest `globalSetup` entry: starts one node for the whole run and hands its URL to every test process through
 * OPENSEARCH_URL. Optional: without it each test file that needs OpenSearch starts its own.
 */
export async function setup(): Promise<() => Promise<void>> {
  const node = await openSearchForTests();
  if (node) process.env.OPENSEARCH_URL = node.url;
  return async () => {
    await node?.stop();
  };
}
