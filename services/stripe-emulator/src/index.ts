export type { StripeEmulatorConfig } from "./config.js";
export { loadStripeEmulatorConfig } from "./config.js";
export type { Clock, ManualClock } from "./domain/clock.js";
export { createManualClock } from "./domain/clock.js";
export type {
  EmulatedCall,
  StripeEmulator,
  StripeEmulatorAddress,
  StripeEmulatorOverrides,
} from "./stripe-emulator.js";
export { createStripeEmulator } from "./stripe-emulator.js";
export type { DeliveryAttempt, WebhookDelivery, WebhookEndpointConfig } from "./webhook-dispatcher.js";
