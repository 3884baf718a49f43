// Hand-written fixtures, one small file per service domain under test/contract/fixtures: only what the descriptors
// cannot give (unique keys, existing ids). Each is laid over the request the rules derive.
import { productsFixtures } from "../fixtures/products.js";

/** A request's init object (protobuf-es plain form). */
export type RequestInit = Record<string, unknown>;

/** Per RPC name: fields laid over the derived valid request, given a suffix unique to the call. */
export type Fixtures = Record<string, (unique: string) => RequestInit>;

const byDomain: Record<string, Fixtures> = {
  products: productsFixtures,
};

export function fixturesOf(domain: string): Fixtures {
  return byDomain[domain] ?? {};
}
