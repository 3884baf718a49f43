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

/** One service of the contract and its RPCs, in proto order. */
export interface ServiceContract {
  service: string;
  rpcs: RpcContract[];
}
