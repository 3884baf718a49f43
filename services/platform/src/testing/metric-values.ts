import type { Registry } from "prom-client";

/**
 * The value of metric `name` on `registry` whose labels include `labels` (collect callbacks run, as at a scrape), or
 * undefined when the registry has no such metric or sample.
 */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  const { values } = await metric.get();
  return values.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

/**
 * A sample of `name` from the Prometheus text a service serves at `${url}/metrics` whose labels include `labels`, or
 * undefined when there is none.
 */
export async function scrapedValue(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split("\n")) {
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample?.[1] !== name) continue;
    const found = new Map([...(sample[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(sample[3]);
  }
  return undefined;
}
