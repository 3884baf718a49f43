import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { idempotencyKeyInterceptor } from "./idempotency-keys.js";
import { type RetryOptions, retryInterceptor } from "./retry-interceptor.js";

/** The wire protocols a browser can speak to the gateway. */
export type ShopProtocol = "connect" | "grpc-web";

/** Services reachable through a `ShopClient`, for `serviceUrls`. */
export type ShopServiceName = "products" | "search" | "inventory" | "orders" | "identity";

export interface ShopClientOptions {
  /** The gateway (or a single service) origin, e.g. `https://shop.example.com`. */
  baseUrl: string;
  /** A seller's, operator's or service's API key (`sk_…`); omit for anonymous storefront calls (search, stock). */
  apiKey?: string;
  /** A bearer token (a customer session's); `startCustomerSession` manages one for you. */
  token?: string;
  /** API key or bearer token, whichever it is: the older name of `apiKey` / `token`. */
  credential?: string;
  /** Connect (default) or gRPC-web: both work from browsers through the gateway's CORS. */
  protocol?: ShopProtocol;
  /** The fetch to call with, e.g. one that adds tracing; default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Binary protobuf on the wire instead of JSON. Default true. */
  binary?: boolean;
  /**
   * Deadline of each unary call, retries included, in milliseconds; override one call with `{ timeoutMs }` as its
   * second argument. Default 30,000; 0 means none. Server streams (Reindex, Rebuild) have none unless given.
   */
  timeoutMs?: number;
  /** Retries of `unavailable` for calls safe to repeat (reads, keyed mutations); `false` turns them off. */
  retry?: RetryOptions | false;
  /** Makes the idempotency keys given to mutations that have none; default 32 random hex digits. */
  newIdempotencyKey?: () => string;
  /** Replace the transport entirely (e.g. gRPC from @connectrpc/connect-node); it brings its own interceptors. */
  transport?: Transport;
  /** Extra interceptors, run for every attempt of a call, after authentication, idempotency keys and retries. */
  interceptors?: Interceptor[];
  /** Per-service origins when services are reached without the gateway. */
  serviceUrls?: Partial<Record<ShopServiceName, string>>;
}

/** Typed clients of every Shop service; each method takes the request and optional call options. */
export interface ShopClient {
  products: Client<typeof ProductService>;
  search: Client<typeof SearchService>;
  inventory: Client<typeof InventoryService>;
  orders: Client<typeof OrderService>;
  identity: Client<typeof ApiKeyService>;
}

/**
 * Default deadline of a unary call: the platform's default maximum, so the client never gives up on a call the server
 * still runs (bulk imports included). Storefronts that prefer to fail fast set a shorter one.
 */
const defaultTimeoutMs = 30_000;

/**
 * The default deadline for unary calls only: a server stream (Reindex, Rebuild) reports progress for as long as the
 * work takes, so it ends when the caller's own `timeoutMs` or signal says.
 */
function withUnaryDeadline(transport: Transport, defaultMs: number): Transport {
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) =>
      transport.unary(method, signal, timeoutMs ?? defaultMs, header, input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      transport.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

function bearer(credential: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${credential}`);
    return next(req);
  };
}

function credentialOf(options: ShopClientOptions): string | undefined {
  const given = [options.credential, options.token, options.apiKey].filter((value) => value);
  if (new Set(given).size > 1) {
    throw new Error("createShopClient: give one of apiKey, token or credential, not several");
  }
  return given[0];
}

/**
 * The client with a given authentication interceptor (outermost, so one call keeps one credential across its
 * retries); `startCustomerSession` passes the one that renews the session.
 */
export function createShopClientWith(options: ShopClientOptions, authenticate: Interceptor | undefined): ShopClient {
  if (options.protocol !== undefined && options.protocol !== "connect" && options.protocol !== "grpc-web") {
    throw new Error(`createShopClient: protocol "${options.protocol}" is neither "connect" nor "grpc-web"`);
  }
  const interceptors = [
    ...(authenticate ? [authenticate] : []),
    idempotencyKeyInterceptor(options.newIdempotencyKey),
    // With retries off it still runs once, to report a failed connection as `unavailable`.
    retryInterceptor(options.retry === false ? { maxAttempts: 1 } : options.retry),
    ...(options.interceptors ?? []),
  ];
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const transportFor = (service: ShopServiceName): Transport => {
    if (options.transport) return options.transport;
    const transportOptions = {
      baseUrl: options.serviceUrls?.[service] ?? options.baseUrl,
      useBinaryFormat: options.binary ?? true,
      interceptors,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    };
    const transport =
      options.protocol === "grpc-web"
        ? createGrpcWebTransport(transportOptions)
        : createConnectTransport(transportOptions);
    return timeoutMs > 0 ? withUnaryDeadline(transport, timeoutMs) : transport;
  };
  return {
    products: createClient(ProductService, transportFor("products")),
    search: createClient(SearchService, transportFor("search")),
    inventory: createClient(InventoryService, transportFor("inventory")),
    orders: createClient(OrderService, transportFor("orders")),
    identity: createClient(ApiKeyService, transportFor("identity")),
  };
}

/**
 * Typed clients for every Shop service over Connect or gRPC-web (fetch-based, so the same code runs in Node 20+,
 * browsers and bundlers), with a deadline per call, retries of `unavailable` where repeating is safe, and
 * idempotency keys for mutations that have none. Failures are `ConnectError`s with the contract's error details.
 */
export function createShopClient(options: ShopClientOptions): ShopClient {
  const credential = credentialOf(options);
  return createShopClientWith(options, credential ? bearer(credential) : undefined);
}
