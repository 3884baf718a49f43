// Hand-written fixtures, one small file per service domain under test/contract/fixtures: only what the descriptors
// cannot give (unique keys, existing ids, which RPC makes which event). Each is laid over the request the rules derive.
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { identityEvents } from "../fixtures/identity.js";
import { inventoryEvents } from "../fixtures/inventory.js";
import { ordersEvents } from "../fixtures/orders.js";
import { productsEvents, productsFixtures } from "../fixtures/products.js";
import type { RoleName } from "./service-contract.js";

/** A request's init object (protobuf-es plain form). */
export type RequestInit = Record<string, unknown>;

/** Per RPC name: fields laid over the derived valid request, given a suffix unique to the call. */
export type Fixtures = Record<string, (unique: string) => RequestInit>;

/** What an event trigger may use: the deployment, called through its gateway. */
export interface TriggerContext {
  client<S extends DescService>(service: S, role: RoleName): Client<S>;
  /** A suffix no other call of this run has. */
  unique(): string;
}

/**
 * Per event (short name, e.g. "ProductCreated"): the calls after which its publisher must have emitted it. Events a
 * background process publishes (a hold expiring) are made to happen by the trigger as an operator would.
 */
export type EventTriggers = Record<string, (context: TriggerContext) => Promise<void>>;

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
