// How the embedded search read model's cost grows with the catalog: build time, heap and in-process latency at 10k,
// 100k and 1M products (SHOP_BENCH_SCALE_PRODUCTS, comma separated, changes the sizes). Each size runs in a process of
// its own so one size's garbage never counts toward another's heap; ratios are against the smallest size, per product
// for build time and heap.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

interface ScaleResult {
  products: number;
  skus: number;
  projectionMs: number;
  indexMs: number;
  projectionMB: number;
  indexMB: number;
  heapMB: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
}

const dir = import.meta.dirname ?? new URL(".", import.meta.url).pathname;
const run = promisify(execFile);

export default async function searchScaleBench(): Promise<void> {
  const sizes = (process.env.SHOP_BENCH_SCALE_PRODUCTS ?? "10000,100000,1000000").split(",").map(Number);
  const results: ScaleResult[] = [];
  for (const products of sizes) {
    process.stdout.write(`search-scale: ${products.toLocaleString("en")} products…\n`);
    // The generated events are held as objects before they are encoded, which needs far more heap than the model.
    const heapLimit = Math.max(2048, Math.ceil(products / 1_000_000) * 8192);
    const { stdout, stderr } = await run(
      process.execPath,
      [
        "--expose-gc",
        `--max-old-space-size=${heapLimit}`,
        "--import",
        "tsx",
        join(dir, "search-scale-worker.ts"),
        String(products),
      ],
      { maxBuffer: 1 << 20, env: process.env },
    );
    if (stderr) process.stderr.write(stderr);
    results.push(JSON.parse(stdout.trim().split("\n").at(-1) as string) as ScaleResult);
  }
  const base = results[0] as ScaleResult;
  const perProduct = (value: number, result: ScaleResult) => value / result.products;
  const growth = (value: number, baseValue: number) => `${(value / baseValue).toFixed(2)}×`;
  const header = [
    "products",
    "SKUs",
    "build s",
    "heap MB",
    "KB/product",
    "qps",
    "p50 ms",
    "p99 ms",
    "heap/prod",
    "build/prod",
  ];
  const rows = results.map((r) => [
    r.products.toLocaleString("en"),
    r.skus.toLocaleString("en"),
    ((r.projectionMs + r.indexMs) / 1000).toFixed(1),
    r.heapMB.toFixed(1),
    ((r.heapMB * 1000) / r.products).toFixed(2),
    String(r.qps),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    growth(perProduct(r.heapMB, r), perProduct(base.heapMB, base)),
    growth(perProduct(r.projectionMs + r.indexMs, r), perProduct(base.projectionMs + base.indexMs, base)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  console.log("\nsearch-scale (embedded read model, in process; growth per product against the smallest size)");
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  "));
  mkdirSync(join(dir, "results"), { recursive: true });
  writeFileSync(
    join(dir, "results", "search-scale.json"),
    `${JSON.stringify({ benchmark: "search-scale", results, at: new Date().toISOString() }, null, 2)}\n`,
  );
  console.log("results: bench/results/search-scale.json");
}
