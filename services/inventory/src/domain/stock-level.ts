import { create } from "@bufbuild/protobuf";
import { type StockLevel, StockLevelSchema } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";

/**
 * What can still be sold. Never negative: when a seller counts fewer units than are held (on_hand below reserved),
 * nothing more can be sold until holds settle, and the shortfall is not shown as a negative offer.
 */
export function availableOf(onHand: bigint, reserved: bigint): bigint {
  const available = onHand - reserved;
  return available > 0n ? available : 0n;
}

/** The contract's StockLevel for raw counters. */
export function stockLevel(sku: string, onHand: bigint, reserved: bigint, version: bigint): StockLevel {
  return create(StockLevelSchema, { sku, onHand, reserved, available: availableOf(onHand, reserved), version });
}
