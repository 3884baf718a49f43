export type { GatewayConfig } from "./config.js";
export { gatewayConfigSpec, loadGatewayConfig } from "./config.js";
export type { Gateway, GatewayOverrides, RunningGateway } from "./gateway.js";
export { createGateway } from "./gateway.js";
