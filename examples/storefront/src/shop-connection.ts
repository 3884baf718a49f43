import { Code, ConnectError, createShopClient, type ShopClient, startCustomerSession } from "@shop/sdk";
import type { StorefrontSettings } from "./storefront-settings.js";

/** The SDK's clients on the gateway, over the chosen protocol, anonymous or as a customer. */
export function shopClient(settings: StorefrontSettings, customerToken?: string): ShopClient {
  return createShopClient({ baseUrl: settings.gatewayUrl, protocol: settings.protocol, token: customerToken });
}

interface StoredSession {
  token: string;
  customerId: string;
  email: string;
  expiresAtMs: number;
}

const sessionKey = "shop.session";
const ordersKey = "shop.orders";
/** A kept session closer than this to its end is replaced rather than used for a checkout that may take a while. */
const renewBeforeMs = 5 * 60_000;

/**
 * A client calling as the guest with this email: the session kept from an earlier page if it is the same email and
 * not about to expire, else a new one from the SDK's `startCustomerSession` (kept in localStorage, so the order page
 * after the trip to the payment page calls as the same customer).
 */
export async function customerClient(
  settings: StorefrontSettings,
  storage: Storage,
  email?: string,
): Promise<ShopClient> {
  let stored: StoredSession | undefined;
  try {
    stored = JSON.parse(storage.getItem(sessionKey) ?? "null") ?? undefined;
  } catch {}
  const fresh = stored !== undefined && stored.expiresAtMs - Date.now() > renewBeforeMs;
  if (stored !== undefined && fresh && (email === undefined || email === stored.email)) {
    return shopClient(settings, stored.token);
  }
  const guestEmail = email ?? stored?.email ?? "guest@example.com";
  const session = await startCustomerSession({
    baseUrl: settings.gatewayUrl,
    protocol: settings.protocol,
    email: guestEmail,
  });
  const kept: StoredSession = {
    token: session.token,
    customerId: session.customerId,
    email: guestEmail,
    expiresAtMs: session.expiresAt.getTime(),
  };
  storage.setItem(sessionKey, JSON.stringify(kept));
  return session.client;
}

/** Keeps an order's access token, so its status page reads it later from any session. */
export function rememberOrder(storage: Storage, orderId: string, accessToken: string): void {
  storage.setItem(ordersKey, JSON.stringify({ ...readOrders(storage), [orderId]: accessToken }));
}

/** The access token CreateOrder gave for the order, or "" when this browser did not place it. */
export function orderAccessToken(storage: Storage, orderId: string): string {
  return readOrders(storage)[orderId] ?? "";
}

function readOrders(storage: Storage): Record<string, string> {
  try {
    return JSON.parse(storage.getItem(ordersKey) ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

/** A sentence a shopper can act on, from any failed call. */
export function describeError(err: unknown, settings: StorefrontSettings): string {
  const error = ConnectError.from(err);
  if (error.code === Code.Unavailable || (error.code === Code.Unknown && /fetch|network/i.test(error.rawMessage))) {
    return `The shop cannot be reached at ${settings.gatewayUrl} right now. Check your connection and try again.`;
  }
  return error.rawMessage;
}
