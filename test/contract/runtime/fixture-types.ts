// The shapes of the hand-written fixtures (test/contract/fixtures), apart from the registry that loads them so the
// fixture files and the registry do not import each other.
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
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
