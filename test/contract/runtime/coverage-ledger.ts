// What a contract suite was expected to cover, worked out from the descriptors (not from the generated table), and
// what its tests did cover: printed at the end of the run, and the run fails when anything has no case.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { allEventContracts, type EventContract } from "@shop/platform";
import { allProtocols } from "@shop/platform/testing";
import type { Endpoint } from "./contract-target.js";
import { ruleCases } from "./request-rules.js";

export type CaseKind = "protocol" | "rule" | "unchanged" | "malformed" | "access" | "event";

export interface CoverageLedger {
  /** Marks one expected case as run and passed. */
  cover(kind: CaseKind, key: string): void;
  /** Counts requests of a kind that has no expectation of its own (e.g. each malformed body). */
  count(what: string): void;
  /** Prints the report, writes it to SHOP_CONTRACT_REPORT_DIR when set, and throws when a case is missing. */
  finish(): void;
}

const roles = ["public", "customer", "seller", "operator", "service"];

/** The events a service's package declares: their cases run in that service's suite. */
export function eventsOf(service: DescService): EventContract[] {
  const pkg = service.typeName.slice(0, service.typeName.lastIndexOf(".") + 1);
  return allEventContracts().filter((event) => event.schema.typeName.startsWith(pkg));
}

/** The contract streams a service's events go to. */
export function streamsOf(service: DescService): string[] {
  return [...new Set(eventsOf(service).map((event) => event.stream))];
}

const emptyKinds = (): Record<CaseKind, Set<string>> => ({
  protocol: new Set(),
  rule: new Set(),
  unchanged: new Set(),
  malformed: new Set(),
  access: new Set(),
  event: new Set(),
});

/** The expected cases of a service called at `endpoints`. */
function expectedCases(
  service: DescService,
  endpoints: Endpoint[],
  seesStreams: boolean,
): Record<CaseKind, Set<string>> {
  const expected = emptyKinds();
  const hasStreams = seesStreams && streamsOf(service).length > 0;
  for (const method of service.methods) {
    for (const { via } of endpoints) {
      for (const protocol of allProtocols) expected.protocol.add(`${method.name} ${via} ${protocol}`);
      for (const rule of ruleCases(method.input)) {
        expected.rule.add(`${method.name} ${via} ${rule.field} ${rule.rule}`);
        if (hasStreams) expected.unchanged.add(`${method.name} ${via} ${rule.field} ${rule.rule}`);
      }
      const raw = method.methodKind === "unary" ? allProtocols : ["grpc", "grpc-web"];
      for (const protocol of raw) expected.malformed.add(`${method.name} ${via} ${protocol}`);
      for (const role of roles) expected.access.add(`${method.name} ${via} ${role}`);
    }
  }
  // Publication can be seen only where the suite reads the deployment's streams; every event round-trips anyway.
  for (const event of eventsOf(service)) {
    expected.event.add(`${event.schema.typeName} round-trip`);
    if (seesStreams) expected.event.add(`${event.schema.typeName} published`);
  }
  return expected;
}

/** `seesStreams`: whether the suite reads the deployment's JetStream (events published, refusals publish nothing). */
export function createCoverageLedger(
  service: DescService,
  endpoints: Endpoint[],
  seesStreams: boolean,
): CoverageLedger {
  const expected = expectedCases(service, endpoints, seesStreams);
  const covered = emptyKinds();
  const counts: Record<string, number> = {};
  return {
    cover(kind, key) {
      covered[kind].add(key);
    },
    count(what) {
      counts[what] = (counts[what] ?? 0) + 1;
    },
    finish() {
      const kinds = Object.keys(expected) as CaseKind[];
      const rows = kinds.map((kind) => ({
        kind,
        expected: expected[kind].size,
        covered: [...expected[kind]].filter((key) => covered[kind].has(key)).length,
      }));
      const missing = kinds.flatMap((kind) =>
        [...expected[kind]].filter((key) => !covered[kind].has(key)).map((key) => `${kind}: ${key}`),
      );
      const report = {
        service: service.typeName,
        endpoints: endpoints.map((endpoint) => endpoint.via),
        rows,
        counts,
        missing,
      };
      const lines = rows.map((row) => `  ${row.kind.padEnd(10)} ${row.covered}/${row.expected}`);
      console.log(`contract coverage of ${service.typeName}\n${lines.join("\n")}`);
      const dir = process.env.SHOP_CONTRACT_REPORT_DIR;
      if (dir) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${service.typeName}.json`), `${JSON.stringify(report, null, 2)}\n`);
      }
      if (missing.length > 0) {
        throw new Error(`${missing.length} contract cases of ${service.typeName} did not pass:\n${missing.join("\n")}`);
      }
    },
  };
}
