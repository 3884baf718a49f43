import type { HandlerContext } from "@connectrpc/connect";
import { principalKey, requestIdKey } from "@shop/platform";
import type { Caller } from "./store/store-context.js";

/** The caller as the stores see it: idempotency keys are per subject; events carry the request id. */
export function callerOf(ctx: HandlerContext): Caller {
  return { actor: ctx.values.get(principalKey).subject, correlationId: ctx.values.get(requestIdKey) };
}
