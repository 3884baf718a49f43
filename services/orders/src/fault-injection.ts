// TEST-ONLY fault injection for the crash tests (test/crash-recovery.test.ts). Nothing here runs unless
// SHOP_ORDERS_FAULT_CRASH_AFTER is set; never set it in a deployment.

import { type SagaStep, sagaSteps } from "./order-saga.js";
import type { OrdersOverrides } from "./orders.js";

/**
 * With SHOP_ORDERS_FAULT_CRASH_AFTER=<step> (one of sagaSteps), the process kills itself with SIGKILL — no shutdown,
 * nothing flushed — right after the first checkout that completes that step, as a power cut there would.
 */
export function crashAfterStepFromEnv(env: Record<string, string | undefined> = process.env): OrdersOverrides {
  const step = env.SHOP_ORDERS_FAULT_CRASH_AFTER;
  if (step === undefined || step === "") return {};
  if (!(sagaSteps as readonly string[]).includes(step)) {
    throw new Error(`SHOP_ORDERS_FAULT_CRASH_AFTER must be one of ${sagaSteps.join(", ")}`);
  }
  return {
    afterSagaStep(done: SagaStep) {
      if (done === step) process.kill(process.pid, "SIGKILL");
    },
  };
}
