/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The gateway the storefront calls, e.g. http://127.0.0.1:8080 (the default). */
  readonly VITE_SHOP_GATEWAY?: string;
  /** "connect" (default) or "grpc-web". */
  readonly VITE_SHOP_PROTOCOL?: string;
  /** Currency of the price filter; default EUR. */
  readonly VITE_SHOP_CURRENCY?: string;
}
