import type { HandlerContext } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { principalKey, requestIdKey } from "@shop/platform";
import type { Caller } from "./store/store-context.js";

/** The caller as the stores see it: idempotency keys are per subject; events carry the request id. */
export function callerOf(ctx: HandlerContext): Caller {
  const principal = ctx.values.get(principalKey);
  return {
    actor: principal.subject,
    correlationId: ctx.values.get(requestIdKey),
    sellerId: principal.role === Role.SELLER ? principal.subject : "",
  };
}
