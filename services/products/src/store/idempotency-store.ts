import type { Tx } from "./database.js";

/**
 * Request ids a caller already used for an operation, with the resource each one produced. Keys are per caller (API
 * key or token subject) so two sellers choosing the same request id never see each other's results.
 */
export async function findAnswered(
  trx: Tx,
  actor: string,
  operation: string,
  requestIds: string[],
): Promise<Map<string, string>> {
  const ids = requestIds.filter((id) => id !== "");
  if (ids.length === 0) return new Map();
  const rows = await trx
    .selectFrom("idempotency_keys")
    .select(["request_id", "resource_id"])
    .where("actor", "=", actor)
    .where("operation", "=", operation)
    .where("request_id", "in", ids)
    .execute();
  return new Map(rows.map((row) => [row.request_id, row.resource_id]));
}

/** Remembers answered requests in the transaction that did the work, so the two can never disagree. */
export async function recordAnswered(
  trx: Tx,
  actor: string,
  operation: string,
  answers: Array<{ requestId: string; resourceId: string }>,
): Promise<void> {
  const rows = answers
    .filter((answer) => answer.requestId !== "")
    .map((answer) => ({ actor, operation, request_id: answer.requestId, resource_id: answer.resourceId }));
  if (rows.length === 0) return;
  await trx
    .insertInto("idempotency_keys")
    .values(rows)
    .onConflict((oc) => oc.columns(["actor", "operation", "request_id"]).doNothing())
    .execute();
}
