import type { DescMessage, DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";

/** The contract's idempotency key: mutations that carry one return their first result when repeated with it. */
const keyField = "requestId";

/** Reads change nothing, so repeating one is always safe. */
const readMethod = /^(Get|List|Search|WhoAmI)/;

/**
 * Writes that are safe to repeat without a request_id: the contract makes them idempotent by an id the caller chose
 * (a reservation id), or repeating one only issues another short-lived token (StartCustomerSession).
 */
const repeatableWrites = new Set([
  "shop.inventory.v1.InventoryService.Reserve",
  "shop.inventory.v1.InventoryService.Commit",
  "shop.inventory.v1.InventoryService.Release",
  "shop.orders.v1.OrderService.StartCustomerSession",
]);

function hasKeyField(schema: DescMessage): boolean {
  return schema.fields.some((field) => field.localName === keyField && field.fieldKind === "scalar");
}

/** Fields holding a list of keyed requests (BatchCreateProducts.requests): each item gets its own key. */
function keyedLists(schema: DescMessage): string[] {
  return schema.fields
    .filter((field) => field.fieldKind === "list" && field.listKind === "message" && hasKeyField(field.message))
    .map((field) => field.localName);
}

/** Whether a call of `method` carries idempotency keys, so a repeat of it cannot apply twice. */
export function carriesIdempotencyKey(method: DescMethod): boolean {
  return hasKeyField(method.input) || keyedLists(method.input).length > 0;
}

/** Whether a call may be sent again after `unavailable`: reads, keyed mutations and writes idempotent by their own id. */
export function isSafeToRepeat(method: DescMethod): boolean {
  if (method.methodKind !== "unary") return false;
  const name = `${method.parent.typeName}.${method.name}`;
  return readMethod.test(method.name) || repeatableWrites.has(name) || carriesIdempotencyKey(method);
}

/** A random key of 32 hex digits; `crypto.getRandomValues` also works on plain-http pages, unlike `randomUUID`. */
export function newIdempotencyKey(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

type Keyed = Record<string, unknown>;

function withKey<T extends Keyed>(message: T, newKey: () => string): T {
  return message[keyField] ? message : { ...message, [keyField]: newKey() };
}

/**
 * Gives every keyed mutation an idempotency key when the caller left it empty, before the first attempt, so retries
 * repeat the same key. The caller's request object is copied, never changed: reusing it for another call gets a new
 * key.
 */
export function idempotencyKeyInterceptor(newKey: () => string = newIdempotencyKey): Interceptor {
  return (next) => (req) => {
    if (req.stream || !carriesIdempotencyKey(req.method)) return next(req);
    let message = req.message as unknown as Keyed;
    if (hasKeyField(req.method.input)) message = withKey(message, newKey);
    for (const list of keyedLists(req.method.input)) {
      const items = message[list] as Keyed[];
      if (items.some((item) => !item[keyField])) message = { ...message, [list]: items.map((i) => withKey(i, newKey)) };
    }
    return next({ ...req, message: message as unknown as typeof req.message });
  };
}
