import type { EventMeta } from "@shop/contracts/shop/events/v1/event_pb.js";

/** Where a consumer remembers the last aggregate version it applied. */
export interface AppliedVersions {
  get(aggregateId: string): Promise<bigint | undefined> | bigint | undefined;
}

/**
 * At-least-once delivery means duplicates and, across replays, old events. An event is worth applying only when its
 * version is newer than what was applied for its aggregate; anything else is a duplicate or stale and is dropped.
 */
export async function isNewer(meta: EventMeta, applied: AppliedVersions): Promise<boolean> {
  const current = await applied.get(meta.aggregateId);
  return current === undefined || meta.aggregateVersion > current;
}

/** An in-memory AppliedVersions for read models that live in memory themselves. */
export class MemoryAppliedVersions implements AppliedVersions {
  private readonly versions = new Map<string, bigint>();
  get(aggregateId: string): bigint | undefined {
    return this.versions.get(aggregateId);
  }
  set(aggregateId: string, version: bigint): void {
    this.versions.set(aggregateId, version);
  }
}
