import type { ShopClient } from "@shop/sdk";
import type { CartStore } from "./cart-store.js";
import type { StorefrontSettings } from "./storefront-settings.js";

/** What every page works with. */
export interface Storefront {
  settings: StorefrontSettings;
  /** Anonymous clients (search); checkout and order pages call as the customer (shop-connection.ts). */
  shop: ShopClient;
  cart: CartStore;
  storage: Storage;
  /** Aborted when the shopper leaves the page, so a page stops polling. */
  signal: AbortSignal;
  /** The query the storefront was opened with, e.g. `redirect_status` on the way back from 3-D Secure. */
  arrival: URLSearchParams;
  /** Re-renders the current page (after a change that alters it). */
  refresh(): void;
}
