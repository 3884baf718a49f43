import { createHash } from "node:crypto";

/**
 * The order a caller's request id stands for: the same caller retrying the same request id always names the same
 * order, so a retry can find it instead of placing a second one. Two callers never share an id.
 */
export function orderIdFor(callerSubject: string, requestId: string): string {
  return `ord_${createHash("sha256").update(`${callerSubject}\n${requestId}`).digest("hex").slice(0, 24)}`;
}

/** The inventory hold of an order: its id, so a retried Reserve/Commit/Release acts on the same hold. */
export function reservationIdOf(orderId: string): string {
  return orderId;
}

/** Stripe idempotency keys of an order's payment calls: a retried step is answered, not repeated, by Stripe. */
export const paymentKeys = {
  create: (orderId: string) => `${orderId}:intent-create`,
  confirm: (orderId: string) => `${orderId}:intent-confirm`,
  cancel: (orderId: string) => `${orderId}:intent-cancel`,
  /** A RefundOrder: keyed by its request id, so a retried request is answered with the first refund. */
  refund: (orderId: string, requestId: string) => `${orderId}:refund:${requestId}`,
};

/** The refund request id of cancelling a paid order: one per order, so a retried cancel refunds once. */
export function cancelRefundRequestIdOf(orderId: string): string {
  return `${orderId}:cancel`;
}

/** The inventory Adjust putting a cancelled sale's units of `sku` back: a retried cancel adds them once. */
export function restockRequestIdOf(orderId: string, sku: string): string {
  return `${orderId}:restock:${sku}`;
}

/** The event id of an order's n-th event: appending the same version twice is stored once (JetStream msgID). */
export function orderEventId(orderId: string, version: bigint): string {
  return `${orderId}:v${version}`;
}
