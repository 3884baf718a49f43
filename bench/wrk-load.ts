// The search benchmark's load from wrk (Debian's package), when the machine has it: a load generator in C costs the
// cores it shares with the measured processes far less than a Node client (see bench/search-load-client.ts, used
// when wrk is missing). It posts the same ready-made Connect binary requests and counts any answer but 200 as an error.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Measurement } from "./harness.js";
import { outputOf } from "./service-process.js";

const benchDir = import.meta.dirname ?? new URL(".", import.meta.url).pathname;

/** Whether `wrk` runs here. */
export function hasWrk(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (err) {
    // wrk --version prints its usage and exits 1; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/** Writes the request bodies as wrk's script reads them (one hex line each) and returns the file. */
export function writeWrkBodies(dir: string, bodies: Uint8Array[]): string {
  const file = join(dir, "bodies.hex");
  writeFileSync(file, bodies.map((body) => Buffer.from(body).toString("hex")).join("\n"));
  return file;
}

interface WrkRun {
  requests: number;
  durationMicros: number;
  errors: number;
  p50Micros: number;
  p99Micros: number;
  /** wrk's CPU time (user + system), from the shell's `times`. */
  cpuSeconds: number;
}

async function runWrk(
  url: string,
  path: string,
  bodiesFile: string,
  connections: number,
  seconds: number,
): Promise<WrkRun> {
  const script = join(benchDir, "search-wrk.lua");
  // `times` prints the shell's and then its children's user and system time: wrk's CPU.
  const command = `wrk -t1 -c${connections} -d${seconds}s --timeout 10s -s "$1" "$2" -- "$3" && times`;
  const out = await outputOf("bash", ["-c", command, "wrk", script, `${url}${path}`, bodiesFile], "wrk");
  const json = out.split("\n").find((line) => line.startsWith("{"));
  const times = out
    .trim()
    .split("\n")
    .at(-1)
    ?.match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
  if (json === undefined || !times) throw new Error(`wrk printed no results: ${out}`);
  const [userMinutes, userSeconds, systemMinutes, systemSeconds] = times.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const cpuSeconds = (userMinutes + systemMinutes) * 60 + userSeconds + systemSeconds;
  return { ...(JSON.parse(json) as Omit<WrkRun, "cpuSeconds">), cpuSeconds };
}

/** A warm-up run, then a measured one of SHOP_BENCH_DURATION_MS (3 s), `connections` calls in flight. */
export async function wrkMeasure(
  url: string,
  path: string,
  bodiesFile: string,
  connections: number,
  label: string,
): Promise<Measurement> {
  const seconds = Math.max(1, Math.round(Number(process.env.SHOP_BENCH_DURATION_MS ?? 3_000) / 1000));
  await runWrk(url, path, bodiesFile, connections, 1);
  const run = await runWrk(url, path, bodiesFile, connections, seconds);
  const elapsed = run.durationMicros / 1e6;
  return {
    label: `${label} (wrk)`,
    ops: run.requests,
    seconds: elapsed,
    opsPerSecond: run.requests / elapsed,
    p50Ms: run.p50Micros / 1000,
    p99Ms: run.p99Micros / 1000,
    errors: run.errors,
    opsPerCpuSecond: run.cpuSeconds > 0 ? run.requests / run.cpuSeconds : 0,
  };
}
