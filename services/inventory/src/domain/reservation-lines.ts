import { InvalidInputError } from "@shop/platform";

/** One SKU and how many units of it a reservation holds. */
export interface HeldLine {
  sku: string;
  quantity: number;
}

/** Most units of one SKU a single reservation may hold, after repeated lines are merged. */
export const maxUnitsPerSku = 1_000_000;

/**
 * The canonical lines of a reservation: repeated SKUs merged, sorted by SKU. A retried Reserve whose lines come in
 * another order is then recognised as the same request, and the scripts touch each SKU once.
 */
export function normalizeLines(lines: ReadonlyArray<{ sku: string; quantity: bigint | number }>): HeldLine[] {
  const bySku = new Map<string, number>();
  for (const line of lines) {
    const quantity = Number(line.quantity);
    if (!Number.isSafeInteger(quantity) || quantity <= 0) {
      throw new InvalidInputError("lines", `quantity of ${line.sku} must be a positive whole number`);
    }
    bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + quantity);
  }
  const merged = [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
  for (const line of merged) {
    if (line.quantity > maxUnitsPerSku) {
      throw new InvalidInputError("lines", `${line.sku}: at most ${maxUnitsPerSku} units per reservation`);
    }
  }
  return merged.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** The stored form of canonical lines; equal strings mean the same reservation request. */
export function encodeLines(lines: HeldLine[]): string {
  return JSON.stringify(lines.map((line) => [line.sku, line.quantity]));
}

export function decodeLines(encoded: string): HeldLine[] {
  const raw = JSON.parse(encoded) as Array<[string, number]>;
  return raw.map(([sku, quantity]) => ({ sku, quantity }));
}
