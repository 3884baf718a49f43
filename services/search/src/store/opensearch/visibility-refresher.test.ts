import { createLogger } from "@shop/platform";
import { describe, expect, it } from "vitest";
import { createVisibilityRefresher } from "./visibility-refresher.js";

/**
 * A steady flow of writes (one every 50 ms for `flowMs`, each with `lagMs` from JetStream to the writer) into a
 * refresher whose refreshes end at once; the mean time between the refreshes it started after the first.
 */
async function meanSpacing(intervalMs: number, lagMs: number, flowMs: number): Promise<number> {
  const starts: number[] = [];
  const refresher = createVisibilityRefresher({
    index: "unit",
    intervalMs,
    logger: createLogger("test", "silent"),
    refresh: async () => {
      starts.push(performance.now());
    },
  });
  const ends = performance.now() + flowMs;
  while (performance.now() < ends) {
    refresher.written(performance.now(), lagMs);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await refresher.close();
  const gaps = starts.slice(1).map((start, i) => start - (starts[i] as number));
  expect(gaps.length).toBeGreaterThanOrEqual(2);
  return gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
}

describe("visibility refresher", () => {
  it("refreshes a tenth of the interval early, earlier by the time events took to reach the writer, within a quarter", async () => {
    const intervalMs = 4_000;
    // Margin without lag: twice the assumed 25 ms refresh, plus a tenth of the interval for the unforeseen (spacing
    // 3,550 ms); with 300 ms of lag 750 ms (spacing 3,250 ms); a lag of 10 s is cut to a quarter of the interval
    // (spacing 3,000 ms). Timers only ever fire late, so each bound below allows for that on its open side.
    const [none, lagging, far] = await Promise.all([
      meanSpacing(intervalMs, 0, 12_500),
      meanSpacing(intervalMs, 300, 12_500),
      meanSpacing(intervalMs, 10_000, 12_500),
    ]);
    expect(none).toBeGreaterThanOrEqual(3_520);
    expect(none).toBeLessThan(3_850);
    expect(lagging).toBeGreaterThanOrEqual(3_220);
    expect(lagging).toBeLessThan(3_550);
    expect(far).toBeGreaterThanOrEqual(2_980);
    expect(far).toBeLessThan(3_450);
  }, 30_000);
});
