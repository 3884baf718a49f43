// Property test of the reservation arithmetic as the Redis scripts do it: any sequence of seller counts, adjustments,
// holds, commits and releases on one SKU leaves no counter negative, never holds more than was available, and keeps
// `reserved` equal to the units of the holds still open.
import { Code, ConnectError } from "@connectrpc/connect";
import { createTestEnv, type TestEnv } from "@shop/platform/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryHarness, startInventoryHarness } from "./support/inventory-harness.js";

let env: TestEnv;
let inv: InventoryHarness;

beforeAll(async () => {
  env = await createTestEnv();
  inv = await startInventoryHarness(env);
});

afterAll(async () => {
  await inv?.stop();
  await env?.cleanup();
});

type Command =
  | { kind: "set"; units: number }
  | { kind: "delta"; units: number }
  | { kind: "reserve"; units: number }
  | { kind: "commit" | "release"; pick: number };

const commands: fc.Arbitrary<Command[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("set" as const), units: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ kind: fc.constant("delta" as const), units: fc.integer({ min: -8, max: 8 }) }),
    fc.record({ kind: fc.constant("reserve" as const), units: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constantFrom("commit" as const, "release" as const), pick: fc.nat() }),
  ),
  { minLength: 1, maxLength: 14 },
);

let runs = 0;

const codeOf = (err: unknown) => ConnectError.from(err).code;

describe("reservation arithmetic (property)", () => {
  it("never goes negative, never oversells, and reserved is what the open holds hold", {
    timeout: 600_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (steps) => {
        const sku = `PROP-${++runs}`;
        const open = new Map<string, number>();
        let holds = 0;
        const level = async () => {
          const { levels } = await inv.operator.getStock({ skus: [sku] });
          return levels[0] ?? { onHand: 0n, reserved: 0n, available: 0n };
        };
        for (const step of steps) {
          const before = await level();
          if (step.kind === "set" || step.kind === "delta") {
            const change =
              step.kind === "set"
                ? { case: "setOnHand" as const, value: BigInt(step.units) }
                : { case: "delta" as const, value: BigInt(step.units) };
            // A count below zero is refused; whatever the answer, the invariants below must hold.
            await inv.operator.adjust({ sku, change, reason: "property" }).catch((err) => {
              expect([Code.FailedPrecondition, Code.InvalidArgument]).toContain(codeOf(err));
            });
          } else if (step.kind === "reserve") {
            const id = `h-${runs}-${++holds}`;
            const held = await inv.operator
              .reserve({ reservationId: id, lines: [{ sku, quantity: BigInt(step.units) }], ttl: { seconds: 3600n } })
              .then(
                () => true,
                (err) => {
                  expect([Code.ResourceExhausted, Code.FailedPrecondition]).toContain(codeOf(err));
                  return false;
                },
              );
            // A hold is granted exactly when that many units were available.
            expect(held, `reserve ${step.units} of ${before.available} available`).toBe(
              before.available >= BigInt(step.units),
            );
            if (held) open.set(id, step.units);
          } else if (open.size > 0) {
            const id = [...open.keys()][step.pick % open.size] as string;
            if (step.kind === "commit") await inv.operator.commit({ reservationId: id });
            else await inv.operator.release({ reservationId: id, reason: "property" });
            open.delete(id);
          }
          const after = await level();
          expect(after.onHand, "on hand").toBeGreaterThanOrEqual(0n);
          expect(after.reserved, "reserved").toBe(BigInt([...open.values()].reduce((sum, units) => sum + units, 0)));
          expect(after.available, "available").toBe(after.onHand > after.reserved ? after.onHand - after.reserved : 0n);
        }
      }),
      { numRuns: 100 },
    );
  });
});
