// Crash tests of issue 9: the orders service as a real process (services/orders/src/main.ts), killed with SIGKILL
// right after each checkout step (test-only hook SHOP_ORDERS_FAULT_CRASH_AFTER, see src/fault-injection.ts); then a
// fresh process whose recovery settles every order: paid-and-committed or cancelled-and-released, never charged twice,
// no hold left behind. The emulator sends no webhooks here, so only recovery can settle an order.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema, OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { clientFor, freePort, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { orderIdFor } from "../src/domain/order-ids.js";
import { type SagaStep, sagaSteps } from "../src/order-saga.js";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
let h: CheckoutHarness;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  // The in-process instance only feeds the catalog and reads orders: its recovery timer is off.
  h = await startCheckoutHarness({ webhooks: false, ordersEnv: { SHOP_ORDERS_RECOVERY_INTERVAL_S: "0" } });
  await h.addProduct("CRASH-1", 1100n);
  await h.setStock("CRASH-1", 20n);
}, 30_000);
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await h?.stop();
});

/** Starts `node --import tsx services/orders/src/main.ts` with the suite's orders environment plus `vars`. */
async function startOrdersProcess(vars: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", join("services", "orders", "src", "main.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...h.ordersEnv, SHOP_PORT: String(port), ...vars },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => {
    child.once("exit", (_code, signal) => {
      children.delete(child);
      resolve(signal);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
    30_000,
    `orders process ready (${stderr.slice(-500)})`,
  );
  return { url, exited, client: (token: string) => clientFor(OrderService, url, { credential: token }) };
}

interface ListedIntent {
  status: string;
}

it("settles every order interrupted by a crash after any checkout step, charging once and leaking no hold", async () => {
  const started = performance.now();
  const { token, customerId } = await h.customer();
  const interrupted = new Map<SagaStep, string>();
  for (const step of sagaSteps) {
    const child = await startOrdersProcess({
      SHOP_ORDERS_FAULT_CRASH_AFTER: step,
      SHOP_ORDERS_RECOVERY_INTERVAL_S: "0",
    });
    const requestId = `crash-after-${step}`;
    const call = child.client(token).createOrder(
      create(CreateOrderRequestSchema, {
        requestId,
        email: "crash@example.com",
        lines: [{ sku: "CRASH-1", quantity: 2n }],
        shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
        paymentMethod: "pm_card_visa",
      }),
    );
    await expect(call).rejects.toThrow();
    expect(await child.exited).toBe("SIGKILL");
    interrupted.set(step, orderIdFor(customerId, requestId));
  }
  const stateOf = async (orderId: string) => (await h.orders.readModel.get(orderId))?.order.state;
  for (const orderId of interrupted.values()) {
    expect([OrderState.PENDING, OrderState.AWAITING_PAYMENT]).toContain(await stateOf(orderId));
  }
  const crashedMs = performance.now() - started;

  await startOrdersProcess({ SHOP_ORDERS_RECOVERY_AFTER_S: "1", SHOP_ORDERS_RECOVERY_INTERVAL_S: "1" });
  await waitFor(
    async () => {
      for (const orderId of interrupted.values()) {
        const state = await stateOf(orderId);
        if (state !== OrderState.PAID && state !== OrderState.CANCELLED) return false;
      }
      return true;
    },
    30_000,
    "every interrupted order settled",
  );
  console.log(
    `crash recovery: ${sagaSteps.length} crashed processes in ${crashedMs.toFixed(0)} ms, recovered in ${(performance.now() - started - crashedMs).toFixed(0)} ms`,
  );

  let paid = 0;
  for (const [step, orderId] of interrupted) {
    const order = (await h.orders.readModel.get(orderId))?.order;
    const intents = (
      await h.emulatorGet<{ data: ListedIntent[] }>(`/_emulator/payment_intents?metadata[order_id]=${orderId}`)
    ).data;
    // The card was charged once the confirmation went out: from then on the order is a sale; before, it is undone.
    const charged = sagaSteps.indexOf(step) >= sagaSteps.indexOf("intent-confirmed");
    expect({ step, state: order?.state }).toEqual({ step, state: charged ? OrderState.PAID : OrderState.CANCELLED });
    expect(intents.length, `intents of the order interrupted after ${step}`).toBeLessThanOrEqual(1);
    expect(intents.filter((intent) => intent.status === "succeeded").length).toBe(charged ? 1 : 0);
    if (!charged) expect(order?.cancelReason).toMatch(/interrupted.*not charged/);
    if (charged) paid++;
  }
  const stats = await h.payments();
  expect(stats.charges.succeeded).toBe(paid);
  expect(await h.stock("CRASH-1")).toMatchObject({ onHand: BigInt(20 - 2 * paid), reserved: 0n });
}, 180_000);
