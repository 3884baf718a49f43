import type { DescMethod } from "@bufbuild/protobuf";
import { Code, type Interceptor, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import type { Histogram } from "prom-client";
import { principalKey, requestIdKey } from "../auth/principal.js";
import { toConnectError } from "../errors.js";
import type { Logger } from "../logger.js";

type Durations = Histogram<"method" | "code">;
type Sample = ReturnType<Durations["labels"]>;

/** Per method, worked out on its first call: its name in logs and metrics, and a labelled sample per outcome. */
interface MethodStats {
  name: string;
  /** Failures, by code; created on a method's first failure with that code. */
  samples: Map<string, Sample>;
  ok: Sample;
}

/** Takes one sample and, for failures (or at debug level), writes one log line. */
function record(
  logger: Logger,
  durations: Durations,
  stats: MethodStats,
  req: UnaryRequest | StreamRequest,
  started: number,
  err?: unknown,
): void {
  const seconds = (performance.now() - started) / 1000;
  if (err === undefined) {
    stats.ok.observe(seconds);
    if (!logger.isLevelEnabled("debug")) return;
  }
  // What the caller will see: domain errors by their mapping, anything unexpected as internal.
  const refusal = err === undefined ? undefined : toConnectError(err, "").error;
  const code = refusal === undefined ? "ok" : Code[refusal.code].toLowerCase();
  if (err !== undefined) {
    let sample = stats.samples.get(code);
    if (sample === undefined) {
      sample = durations.labels({ method: stats.name, code });
      stats.samples.set(code, sample);
    }
    sample.observe(seconds);
  }
  logger[err === undefined ? "debug" : "info"](
    {
      requestId: req.contextValues.get(requestIdKey),
      method: stats.name,
      code,
      ms: Math.round(seconds * 1000),
      caller: req.contextValues.get(principalKey).subject || undefined,
      error: refusal?.rawMessage,
    },
    "rpc",
  );
}

/**
 * One histogram sample per RPC, with its outcome, and a log line for each failure (each call at debug level). Sits
 * inside the error interceptor so it sees the request id, and outside auth and validation so refused requests are
 * counted too. The per-call path only reads what it worked out per method, since it runs on every request.
 */
export function observeInterceptor(logger: Logger, durations: Durations): Interceptor {
  const byMethod = new WeakMap<DescMethod, MethodStats>();
  const statsOf = (method: DescMethod): MethodStats => {
    let stats = byMethod.get(method);
    if (stats === undefined) {
      const name = `${method.parent.typeName}/${method.name}`;
      const ok = durations.labels({ method: name, code: "ok" });
      stats = { name, ok, samples: new Map() };
      byMethod.set(method, stats);
    }
    return stats;
  };
  return (next) => async (req) => {
    const started = performance.now();
    const stats = statsOf(req.method);
    try {
      const res = await next(req);
      if (!res.stream) {
        record(logger, durations, stats, req, started);
        return res;
      }
      const source = res.message;
      return {
        ...res,
        message: (async function* observed() {
          try {
            yield* source;
            record(logger, durations, stats, req, started);
          } catch (err) {
            record(logger, durations, stats, req, started, err);
            throw err;
          }
        })(),
      };
    } catch (err) {
      record(logger, durations, stats, req, started, err);
      throw err;
    }
  };
}
