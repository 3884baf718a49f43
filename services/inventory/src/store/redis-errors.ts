import { UnavailableError } from "@shop/platform";

const connectionTrouble =
  /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Stream isn't writeable|LOADING|MaxRetriesPerRequest/i;

/** Redis out of reach becomes Unavailable (callers may retry); anything else stays an internal error. */
export function asStoreError(err: unknown): unknown {
  if (err instanceof Error && (connectionTrouble.test(err.message) || connectionTrouble.test(err.name))) {
    return new UnavailableError("the inventory store (Redis) is not reachable right now; retry shortly");
  }
  return err;
}

/** Awaits a Redis call, translating connection failures. */
export async function guarded<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw asStoreError(err);
  }
}
