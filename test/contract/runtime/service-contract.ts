// The shape of a generated case table (test/contract/generated/**/*_contract.ts): data the runtime turns into tests.
import type { RuleCase } from "./request-rules.js";

/** A role of `(shop.common.v1.access)`, by its short name. */
export type RoleName = "public" | "customer" | "seller" | "operator" | "service";

/** One RPC as the contract declares it. */
export interface RpcContract {
  name: string;
  kind: "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";
  /** Roles its access option allows; "public" means anybody, with or without credentials. */
  allow: RoleName[];
  /** Every protovalidate rule of its request, including those of the messages it contains. */
  rules: RuleCase[];
}

/** One event of the service's package, as its `(shop.events.v1.event)` option declares it. */
export interface EventCase {
  /** Full type name, e.g. "shop.products.v1.ProductCreated". */
  type: string;
  /** The stream of its publisher, e.g. "PRODUCTS". */
  stream: string;
  /** Subject template, e.g. "shop.products.product.{product.id}". */
  subject: string;
}

/** One service of the contract, its RPCs and the events of its package, in proto order. */
export interface ServiceContract {
  service: string;
  rpcs: RpcContract[];
  events: EventCase[];
}
