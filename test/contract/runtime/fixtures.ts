// Hand-written fixtures, one small file per service domain under test/contract/fixtures: only what the descriptors
// cannot give (unique keys, existing ids, which RPC makes which event). Each is laid over the request the rules derive.
import { identityEvents } from "../fixtures/identity.js";
import { inventoryEvents } from "../fixtures/inventory.js";
import { ordersEvents } from "../fixtures/orders.js";
import { productsEvents, productsFixtures } from "../fixtures/products.js";
import type { EventTriggers, Fixtures } from "./fixture-types.js";

export type { EventTriggers, Fixtures, RequestInit, TriggerContext } from "./fixture-types.js";

const byDomain: Record<string, Fixtures> = {
  products: productsFixtures,
};

const triggersByDomain: Record<string, EventTriggers> = {
  identity: identityEvents,
  inventory: inventoryEvents,
  orders: ordersEvents,
  products: productsEvents,
};

export function fixturesOf(domain: string): Fixtures {
  return byDomain[domain] ?? {};
}

export function eventTriggersOf(domain: string): EventTriggers {
  return triggersByDomain[domain] ?? {};
}
