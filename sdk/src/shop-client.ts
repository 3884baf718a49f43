import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";

export interface ShopClientOptions {
  /** The gateway (or a single service) origin, e.g. `https://shop.example.com`. */
  baseUrl: string;
  /** API key (`sk_…`) or bearer token; omit for anonymous storefront calls (search). */
  credential?: string;
  /** Use binary protobuf on the wire instead of JSON. Default: true. */
  binary?: boolean;
  /** Replace the transport entirely (e.g. gRPC from @connectrpc/connect-node). */
  transport?: Transport;
  /** Extra interceptors, applied after authentication. */
  interceptors?: Interceptor[];
  /** Per-service origins when services are reached without the gateway. */
  serviceUrls?: Partial<Record<"products" | "search" | "inventory" | "orders" | "identity", string>>;
}

export interface ShopClient {
  products: Client<typeof ProductService>;
  search: Client<typeof SearchService>;
  inventory: Client<typeof InventoryService>;
  orders: Client<typeof OrderService>;
  identity: Client<typeof ApiKeyService>;
}

function authenticate(credential: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${credential}`);
    return next(req);
  };
}

/**
 * Typed clients for every Shop service over Connect (fetch-based, so the same code runs in Node 20+ and browsers).
 */
export function createShopClient(options: ShopClientOptions): ShopClient {
  const interceptors = [
    ...(options.credential ? [authenticate(options.credential)] : []),
    ...(options.interceptors ?? []),
  ];
  const transportFor = (service: keyof NonNullable<ShopClientOptions["serviceUrls"]>) =>
    options.transport ??
    createConnectTransport({
      baseUrl: options.serviceUrls?.[service] ?? options.baseUrl,
      useBinaryFormat: options.binary ?? true,
      interceptors,
    });
  return {
    products: createClient(ProductService, transportFor("products")),
    search: createClient(SearchService, transportFor("search")),
    inventory: createClient(InventoryService, transportFor("inventory")),
    orders: createClient(OrderService, transportFor("orders")),
    identity: createClient(ApiKeyService, transportFor("identity")),
  };
}
