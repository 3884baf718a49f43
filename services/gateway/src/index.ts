export type { GatewayOptions, RunningGateway } from "./gateway.js";
export { startGateway } from "./gateway.js";
export type { Route, Upstreams } from "./route-table.js";
export { createRouteTable } from "./route-table.js";
