import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "hdr-histogram-js";

/** One measured workload. */
export interface Measurement {
  label: string;
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /**
   * Operations per second of this process's CPU time (user + system). Client and server share the process in the
   * in-process benchmarks, so on a busy machine this stays put where wall-clock throughput swings.
   */
  opsPerCpuSecond: number;
}

export interface MeasureOptions {
  label: string;
  /** One operation; awaited. Throwing counts as an error, not an op. */
  op: (worker: number, iteration: number) => Promise<unknown>;
  /** Operations in flight at once. Default 16. */
  concurrency?: number;
  /** Unmeasured run-in. Default SHOP_BENCH_WARMUP_MS or 1 s. */
  warmupMs?: number;
  /** Measured duration. Default SHOP_BENCH_DURATION_MS or 3 s. */
  durationMs?: number;
  /** Stop after this many ops (for finite workloads such as imports). */
  maxOps?: number;
}

const envMs = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function runFor(
  options: MeasureOptions,
  durationMs: number,
  record: (ms: number) => void,
): Promise<{ ops: number; errors: number; seconds: number }> {
  const deadline = performance.now() + durationMs;
  let ops = 0;
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const worker = async (id: number) => {
    while (performance.now() < deadline && (options.maxOps === undefined || issued < options.maxOps)) {
      const iteration = issued++;
      const t0 = performance.now();
      try {
        await options.op(id, iteration);
        record(performance.now() - t0);
        ops++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, (_, id) => worker(id)));
  return { ops, errors, seconds: (performance.now() - started) / 1000 };
}

/** Warm-up, then a fixed-duration closed-loop run with latencies in an HDR histogram. */
export async function measure(options: MeasureOptions): Promise<Measurement> {
  await runFor(options, options.warmupMs ?? envMs("SHOP_BENCH_WARMUP_MS", 1_000), () => undefined);
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const cpuBefore = process.cpuUsage();
  const { ops, errors, seconds } = await runFor(
    options,
    options.durationMs ?? envMs("SHOP_BENCH_DURATION_MS", 3_000),
    (ms) => histogram.recordValue(Math.max(1, Math.round(ms * 1000))),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const result = {
    label: options.label,
    ops,
    seconds,
    opsPerSecond: ops / seconds,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    errors,
    opsPerCpuSecond: cpuSeconds > 0 ? ops / cpuSeconds : 0,
  };
  histogram.destroy();
  return result;
}

/** A comparison of a measured path against its baseline measured in the same run. */
export interface Comparison {
  name: string;
  subject: Measurement;
  baseline: Measurement;
}

export interface BenchReport {
  benchmark: string;
  comparisons: Comparison[];
  extra?: Record<string, unknown>;
  /** Also compare ops per CPU-second: for benchmarks whose client and servers all run in this process. */
  inProcess?: boolean;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
}

/** Prints the table (throughput, p50, p99, ratio to baseline) and writes bench/results/<name>.json. */
export function report(result: BenchReport): void {
  const cpu = result.inProcess === true;
  const header = [
    "comparison / path",
    "ops/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "ratio",
    ...(cpu ? ["ops/cpu-s", "cpu ratio"] : []),
  ];
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  const lines: string[][] = [];
  for (const c of result.comparisons) {
    const ratio = c.subject.opsPerSecond / c.baseline.opsPerSecond;
    const cpuRatio = c.subject.opsPerCpuSecond / c.baseline.opsPerCpuSecond;
    lines.push([
      `${c.name}: ${c.subject.label}`,
      c.subject.opsPerSecond.toFixed(0),
      c.subject.p50Ms.toFixed(3),
      c.subject.p99Ms.toFixed(3),
      String(c.subject.errors),
      percent(ratio),
      ...(cpu ? [c.subject.opsPerCpuSecond.toFixed(0), percent(cpuRatio)] : []),
    ]);
    lines.push([
      `${c.name}: ${c.baseline.label} (baseline)`,
      c.baseline.opsPerSecond.toFixed(0),
      c.baseline.p50Ms.toFixed(3),
      c.baseline.p99Ms.toFixed(3),
      String(c.baseline.errors),
      "100%",
      ...(cpu ? [c.baseline.opsPerCpuSecond.toFixed(0), "100%"] : []),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  console.log(`\n${result.benchmark}`);
  console.log(row(header, widths));
  for (const line of lines) console.log(row(line, widths));
  if (result.extra)
    for (const [key, value] of Object.entries(result.extra))
      console.log(`${key}: ${typeof value === "number" ? value.toFixed(2) : JSON.stringify(value)}`);
  const dir = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "results");
  mkdirSync(dir, { recursive: true });
  const json = {
    ...result,
    comparisons: result.comparisons.map((c) => ({
      ...c,
      ratio: c.subject.opsPerSecond / c.baseline.opsPerSecond,
      ...(cpu ? { cpuRatio: c.subject.opsPerCpuSecond / c.baseline.opsPerCpuSecond } : {}),
    })),
    at: new Date().toISOString(),
  };
  writeFileSync(join(dir, `${result.benchmark}.json`), `${JSON.stringify(json, null, 2)}\n`);
  console.log(`results: bench/results/${result.benchmark}.json`);
}

/**
 * Measures baseline and subject in alternating rounds, in alternating order, and pools each side's rounds, so a burst
 * of load from elsewhere on the machine lands on both sides instead of deciding the ratio. Throughput is pooled ops over pooled time;
 * p50 and p99 are the medians of the rounds'.
 */
export async function compareInterleaved(
  name: string,
  baseline: MeasureOptions,
  subject: MeasureOptions,
  rounds = 3,
): Promise<Comparison> {
  const sides: { baseline: Measurement[]; subject: Measurement[] } = { baseline: [], subject: [] };
  for (let round = 0; round < rounds; round++) {
    const warm = (options: MeasureOptions) => (round === 0 ? options : { ...options, warmupMs: 200 });
    // The order alternates (baseline first, then subject first, …): whichever side runs second inherits the first's
    // garbage and warmed caches, and that must not always be the same side.
    if (round % 2 === 0) {
      sides.baseline.push(await measure(warm(baseline)));
      sides.subject.push(await measure(warm(subject)));
    } else {
      sides.subject.push(await measure(warm(subject)));
      sides.baseline.push(await measure(warm(baseline)));
    }
  }
  return {
    name,
    baseline: poolRuns(sides.baseline, baseline.label),
    subject: poolRuns(sides.subject, subject.label),
  };
}

/** Several rounds of one side as one measurement: pooled ops over pooled time (and CPU); p50 and p99 the medians. */
export function poolRuns(runs: Measurement[], label: string): Measurement {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const ops = runs.reduce((sum, run) => sum + run.ops, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const cpuSeconds = runs.reduce((sum, run) => sum + (run.opsPerCpuSecond > 0 ? run.ops / run.opsPerCpuSecond : 0), 0);
  return {
    label,
    ops,
    seconds,
    opsPerSecond: ops / seconds,
    opsPerCpuSecond: cpuSeconds > 0 ? ops / cpuSeconds : 0,
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  };
}
