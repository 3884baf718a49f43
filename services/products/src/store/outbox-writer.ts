import type { EncodedEvent } from "@shop/platform";
import type { Tx } from "./database.js";

/**
 * Writes events in the caller's transaction, so they commit (or vanish) together with the change they describe.
 * Callers must have locked the aggregate's row before this, which keeps outbox ids in commit order per aggregate.
 */
export async function appendToOutbox(trx: Tx, events: EncodedEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto("outbox")
    .values(
      events.map((event) => ({
        event_id: event.eventId,
        aggregate_id: event.aggregateId,
        aggregate_version: event.aggregateVersion,
        subject: event.subject,
        type_name: event.typeName,
        data: event.data,
      })),
    )
    .execute();
}
