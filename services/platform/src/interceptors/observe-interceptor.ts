import { Code, type Interceptor } from "@connectrpc/connect";
import type { Histogram } from "prom-client";
import { principalKey, requestIdKey } from "../auth/principal.js";
import { toConnectError } from "../errors.js";
import type { Logger } from "../logger.js";

/** The code the caller will see: domain errors by their mapping, anything unexpected as internal. */
function codeName(err: unknown): string {
  return err === undefined ? "ok" : Code[toConnectError(err, "").error.code].toLowerCase();
}

/**
 * One log line and one histogram sample per RPC, with its outcome. Sits inside the error interceptor so it sees the
 * request id, and outside auth and validation so refused requests are counted too.
 */
export function observeInterceptor(logger: Logger, durations: Histogram<"method" | "code">): Interceptor {
  // One labelled child per method and outcome, so a sample does not hash its labels on every call.
  const children = new Map<string, ReturnType<typeof durations.labels>>();
  const sampleOf = (method: string, code: string) => {
    const key = `${method} ${code}`;
    let child = children.get(key);
    if (child === undefined) {
      child = durations.labels({ method, code });
      children.set(key, child);
    }
    return child;
  };
  return (next) => async (req) => {
    const started = performance.now();
    const method = `${req.service.typeName}/${req.method.name}`;
    const done = (err?: unknown) => {
      const code = codeName(err);
      const seconds = (performance.now() - started) / 1000;
      sampleOf(method, code).observe(seconds);
      if (logger.isLevelEnabled("debug") || err !== undefined) {
        logger[err === undefined ? "debug" : "info"](
          {
            requestId: req.contextValues.get(requestIdKey),
            method,
            code,
            ms: Math.round(seconds * 1000),
            caller: req.contextValues.get(principalKey).subject || undefined,
            error: err === undefined ? undefined : toConnectError(err, "").error.rawMessage,
          },
          "rpc",
        );
      }
    };
    try {
      const res = await next(req);
      if (!res.stream) done();
      else {
        const source = res.message;
        return {
          ...res,
          message: (async function* observed() {
            try {
              yield* source;
              done();
            } catch (err) {
              done(err);
              throw err;
            }
          })(),
        };
      }
      return res;
    } catch (err) {
      done(err);
      throw err;
    }
  };
}
