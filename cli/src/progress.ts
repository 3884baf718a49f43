/** Progress of long work: a redrawn bar with rate and ETA on a terminal, a plain line every few seconds otherwise. */
export interface Progress {
  update(done: number, extra?: string): void;
  finish(summary?: string): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function createProgress(
  label: string,
  total: number | undefined,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const started = Date.now();
  let lastDraw = 0;
  const line = (done: number, extra = "") => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = total && rate > 0 ? formatDuration((total - done) / rate) : "?";
    const share = total ? Math.min(1, done / total) : undefined;
    const bar =
      share === undefined
        ? ""
        : `[${"#".repeat(Math.round(share * 24)).padEnd(24, ".")}] ${(share * 100).toFixed(0).padStart(3)}% `;
    return `${label} ${bar}${done}${total ? `/${total}` : ""} ${rate.toFixed(0)}/s eta ${eta}${extra ? ` ${extra}` : ""}`;
  };
  return {
    update(done, extra) {
      const now = Date.now();
      if (stream.isTTY) {
        if (now - lastDraw < 100) return;
        stream.write(`\r${line(done, extra)}\x1b[K`);
      } else {
        if (now - lastDraw < 2_000) return;
        stream.write(`${line(done, extra)}\n`);
      }
      lastDraw = now;
    },
    finish(summary) {
      if (stream.isTTY) stream.write("\r\x1b[K");
      if (summary) stream.write(`${summary}\n`);
    },
  };
}
