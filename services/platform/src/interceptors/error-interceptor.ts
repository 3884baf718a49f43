import { randomUUID } from "node:crypto";
import type { Interceptor, StreamResponse, UnaryResponse } from "@connectrpc/connect";
import { requestIdKey } from "../auth/principal.js";
import { toConnectError } from "../errors.js";
import type { Logger } from "../logger.js";

/** Throws what the caller may see of `err`, logging an internal error with its stack under the request id. */
function fail(logger: Logger, err: unknown, requestId: string, method: string): never {
  const { error, internal } = toConnectError(err, requestId);
  if (internal) logger.error({ err, requestId, method }, "internal error");
  error.metadata.set("x-request-id", requestId);
  throw error;
}

/**
 * Outermost interceptor: gives every request an id (echoed as `x-request-id`), and turns whatever a handler throws
 * into a Connect error the caller may see. Internal errors are logged here with their stack and never sent.
 */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const requestId = req.header.get("x-request-id")?.slice(0, 128) || randomUUID();
    req.contextValues.set(requestIdKey, requestId);
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(req);
    } catch (err) {
      return fail(logger, err, requestId, req.url);
    }
    res.header.set("x-request-id", requestId);
    if (!res.stream) return res;
    const source = res.message;
    return {
      ...res,
      message: (async function* guarded() {
        try {
          yield* source;
        } catch (err) {
          fail(logger, err, requestId, req.url);
        }
      })(),
    } as StreamResponse;
  };
}
