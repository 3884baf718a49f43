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

/**
 * Claims request ids for the work this transaction is about to do, in id order, and returns the ones it got. A
 * concurrent request with the same id waits for this transaction and then gets none: once this one committed, it finds
 * the id answered. Claims of items that end up failing are given back with `releaseRequestIds`.
 */
export async function claimRequestIds(
  trx: Tx,
  actor: string,
  operation: string,
  claims: Array<{ requestId: string; resourceId: string }>,
): Promise<Set<string>> {
  const rows = claims
    .filter((claim) => claim.requestId !== "")
    .sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0))
    .map((claim) => ({ actor, operation, request_id: claim.requestId, resource_id: claim.resourceId }));
  if (rows.length === 0) return new Set();
  const claimed = await trx
    .insertInto("idempotency_keys")
    .values(rows)
    .onConflict((oc) => oc.columns(["actor", "operation", "request_id"]).doNothing())
    .returning("request_id")
    .execute();
  return new Set(claimed.map((row) => row.request_id));
}

/** Gives back claims whose work failed, so the same request id can be tried again. */
export async function releaseRequestIds(
  trx: Tx,
  actor: string,
  operation: string,
  requestIds: string[],
): Promise<void> {
  if (requestIds.length === 0) return;
  await trx
    .deleteFrom("idempotency_keys")
    .where("actor", "=", actor)
    .where("operation", "=", operation)
    .where("request_id", "in", requestIds)
    .execute();
}
