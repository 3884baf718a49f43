import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { OrderSchema, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { describe, expect, it } from "vitest";
import { decideRecovery, isStuck, recordedStep } from "./recovery-rules.js";

const at = 1_000_000;
const order = (state: OrderState, version: bigint, paymentIntentId = "") =>
  create(OrderSchema, { id: "ord_1", state, version, paymentIntentId, updateTime: timestampFromMs(at) });

describe("recovery rules", () => {
  it("takes an order as stuck only when unsettled and unchanged for the threshold", () => {
    expect(isStuck(order(OrderState.PENDING, 1n), at + 999, 1_000)).toBe(false);
    expect(isStuck(order(OrderState.PENDING, 1n), at + 1_000, 1_000)).toBe(true);
    expect(isStuck(order(OrderState.PAID, 5n), at + 60_000, 1_000)).toBe(false);
  });

  it("knows no intent can exist before the stock was recorded as reserved", () => {
    expect(recordedStep(order(OrderState.PENDING, 1n))).toBe("placed");
    expect(recordedStep(order(OrderState.PENDING, 2n))).toBe("stock-reserved");
    expect(recordedStep(order(OrderState.AWAITING_PAYMENT, 3n, "pi_1"))).toBe("payment-requested");
  });

  it("commits a payment Stripe says succeeded, and undoes every other ending", () => {
    const stuck = order(OrderState.AWAITING_PAYMENT, 3n, "pi_1");
    const decide = (status: "succeeded" | "canceled" | "failed" | "unconfirmed") =>
      decideRecovery({ order: stuck, intent: { status }, nowMs: at, holdMs: 10_000 }).kind;
    expect(decide("succeeded")).toBe("commit");
    expect(decide("canceled")).toBe("compensate");
    expect(decide("failed")).toBe("compensate");
    expect(decide("unconfirmed")).toBe("compensate");
    expect(decideRecovery({ order: stuck, intent: undefined, nowMs: at, holdMs: 1 }).kind).toBe("compensate");
  });

  it("waits for 3-D Secure while the stock is held, then gives up with a reason", () => {
    const waiting = order(OrderState.AWAITING_PAYMENT, 3n, "pi_1");
    const intent = { status: "requires_action" as const };
    expect(decideRecovery({ order: waiting, intent, nowMs: at + 9_999, holdMs: 10_000 }).kind).toBe("wait");
    const late = decideRecovery({ order: waiting, intent, nowMs: at + 10_000, holdMs: 10_000 });
    expect(late).toMatchObject({ kind: "compensate", reason: expect.stringMatching(/3-D Secure.*not charged/) });
    const expired = decideRecovery({ order: waiting, intent, nowMs: at + 1, holdMs: 10_000, holdExpired: true });
    expect(expired).toEqual(late);
  });
});
