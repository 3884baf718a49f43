import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createShopClient, type ShopClient, type ShopClientOptions } from "./shop-client.js";

/** A guest's session: a client that calls as the customer, and what the session is. */
export interface CustomerSession {
  /** Every service's client, authenticated with the session token (CreateOrder, GetOrder, ListOrders). */
  client: ShopClient;
  /** The customer bearer token; keep it to build a client again later with `createShopClient({ credential })`. */
  token: string;
  /** Whose orders this session places and reads. */
  customerId: string;
  /** When the token stops being accepted (1 h by default); start a new session after it. */
  expiresAt: Date;
}

/**
 * Starts a guest's session from an email (the public, rate-limited `StartCustomerSession`) and returns a client that
 * calls as that customer, so a storefront needs no API key to check out.
 */
export async function startCustomerSession(
  options: Omit<ShopClientOptions, "credential"> & { email: string },
): Promise<CustomerSession> {
  const { email, ...clientOptions } = options;
  const session = await createShopClient(clientOptions).orders.startCustomerSession({ email });
  return {
    client: createShopClient({ ...clientOptions, credential: session.token }),
    token: session.token,
    customerId: session.customerId,
    expiresAt: session.expireTime === undefined ? new Date(Number.NaN) : timestampDate(session.expireTime),
  };
}
