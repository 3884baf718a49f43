// What only bench/ and test/ may use of the gateway's insides (`@shop/gateway/internal`).
export type { CallerRateLimit, CallerRateLimitOptions } from "./caller-rate-limit.js";
export { createCallerRateLimit } from "./caller-rate-limit.js";
export type { GatewayOptions } from "./gateway.js";
export { startGateway } from "./gateway.js";
export type { Route, RouteTableOptions, Upstreams } from "./route-table.js";
export { createRouteTable } from "./route-table.js";
