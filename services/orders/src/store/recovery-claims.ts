import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";

/**
 * Which recovery worker is looking at an order right now. Every replica runs recovery; a claim makes sure that only
 * one of them calls Stripe and the inventory for an order at a time (the order stream's expected last sequence already
 * makes sure only one of them can advance it). A claim of a worker that died lapses after the bucket's TTL.
 */
export interface RecoveryClaims {
  /** True when this worker now holds the order's claim; false when another one does. */
  claim(orderId: string): Promise<boolean>;
  release(orderId: string): Promise<void>;
}

/**
 * Claims as keys of a JetStream KV bucket (`<namespace>_order_recovery_claims`) whose entries expire after `ttlMs`;
 * `kv.create` writes a key only if it does not exist, so of two workers claiming at once exactly one wins.
 */
export async function openRecoveryClaims(options: {
  js: JetStreamClient;
  namespace: string;
  ttlMs: number;
  owner: string;
  /** Copies of the bucket in a NATS cluster when it is created (SHOP_NATS_STREAM_REPLICAS). Default 1. */
  replicas?: number;
}): Promise<RecoveryClaims> {
  const bucket = options.namespace ? `${options.namespace}_order_recovery_claims` : "order_recovery_claims";
  const kv: KV = await new Kvm(options.js).create(bucket, {
    ttl: options.ttlMs,
    history: 1,
    replicas: options.replicas ?? 1,
  });
  return {
    async claim(orderId) {
      try {
        await kv.create(orderId, options.owner);
        return true;
      } catch (err) {
        if (/wrong last sequence|key exists/i.test((err as Error).message)) return false;
        throw err;
      }
    },
    async release(orderId) {
      await kv.delete(orderId);
    },
  };
}
