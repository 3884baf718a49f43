/** The wire protocols a browser can speak to the gateway. */
export type Protocol = "connect" | "grpc-web";

/** Where the storefront sends its calls and how. */
export interface StorefrontSettings {
  /** The gateway origin, e.g. http://127.0.0.1:8080. */
  gatewayUrl: string;
  protocol: Protocol;
  /** Currency of the price filter. */
  currency: string;
}

const settingsKey = "shop.settings";
const isProtocol = (value: unknown): value is Protocol => value === "connect" || value === "grpc-web";

/**
 * Settings from, in order: `?gateway=` / `?protocol=` on the address (kept for the next visits, so a return from the
 * payment page keeps them), what an earlier visit kept, the build's VITE_SHOP_* variables, and the defaults
 * (`npm start`'s gateway on 8080, Connect).
 */
export function loadSettings(url: URL, storage: Storage): StorefrontSettings {
  let stored: Partial<StorefrontSettings> = {};
  try {
    stored = JSON.parse(storage.getItem(settingsKey) ?? "{}") as Partial<StorefrontSettings>;
  } catch {}
  const gateway = url.searchParams.get("gateway");
  const protocol = url.searchParams.get("protocol");
  if (gateway !== null || protocol !== null) {
    if (gateway !== null) stored.gatewayUrl = gateway;
    if (isProtocol(protocol)) stored.protocol = protocol;
    storage.setItem(settingsKey, JSON.stringify(stored));
  }
  const envProtocol = import.meta.env.VITE_SHOP_PROTOCOL;
  return {
    gatewayUrl: (stored.gatewayUrl ?? import.meta.env.VITE_SHOP_GATEWAY ?? "http://127.0.0.1:8080").replace(/\/+$/, ""),
    protocol: stored.protocol ?? (isProtocol(envProtocol) ? envProtocol : "connect"),
    currency: import.meta.env.VITE_SHOP_CURRENCY ?? "EUR",
  };
}

/** Switches the protocol for this browser (the footer's selector). */
export function saveProtocol(storage: Storage, protocol: Protocol): void {
  let stored: Partial<StorefrontSettings> = {};
  try {
    stored = JSON.parse(storage.getItem(settingsKey) ?? "{}") as Partial<StorefrontSettings>;
  } catch {}
  storage.setItem(settingsKey, JSON.stringify({ ...stored, protocol }));
}
