import { formatMoney } from "@shop/sdk";

/** One line of the cart: what the shopper saw when adding it. Prices are charged from the catalog, not from here. */
export interface CartLine {
  productId: string;
  sku: string;
  title: string;
  /** Minor units as a decimal string (JSON has no bigint). */
  priceMinor: string;
  currencyCode: string;
  quantity: number;
}

/** The cart, kept in localStorage so it survives reloads and the trip to the payment page. */
export interface CartStore {
  lines(): CartLine[];
  add(line: Omit<CartLine, "quantity">, quantity: number): void;
  setQuantity(sku: string, quantity: number): void;
  remove(sku: string): void;
  clear(): void;
  /** Number of items (sum of quantities). */
  count(): number;
  /** "25.00 EUR", or one total per currency joined with " + ". */
  subtotal(): string;
  /** Called after every change. */
  onChange(listener: () => void): void;
}

const cartKey = "shop.cart";
/** CreateOrder's limit per line. */
export const maxLineQuantity = 1000;

export function createCartStore(storage: Storage): CartStore {
  const listeners: Array<() => void> = [];
  const read = (): CartLine[] => {
    try {
      const lines = JSON.parse(storage.getItem(cartKey) ?? "[]");
      return Array.isArray(lines) ? (lines as CartLine[]) : [];
    } catch {
      return [];
    }
  };
  const write = (lines: CartLine[]) => {
    storage.setItem(cartKey, JSON.stringify(lines.filter((line) => line.quantity > 0)));
    for (const listener of listeners) listener();
  };
  const clamp = (quantity: number) => Math.max(0, Math.min(maxLineQuantity, Math.floor(quantity)));
  return {
    lines: read,
    add(line, quantity) {
      const lines = read();
      const existing = lines.find((l) => l.sku === line.sku);
      if (existing) existing.quantity = clamp(existing.quantity + quantity);
      else lines.push({ ...line, quantity: clamp(quantity) });
      write(lines);
    },
    setQuantity(sku, quantity) {
      write(read().map((line) => (line.sku === sku ? { ...line, quantity: clamp(quantity) } : line)));
    },
    remove(sku) {
      write(read().filter((line) => line.sku !== sku));
    },
    clear() {
      write([]);
    },
    count: () => read().reduce((sum, line) => sum + line.quantity, 0),
    subtotal() {
      const totals = new Map<string, bigint>();
      for (const line of read()) {
        totals.set(
          line.currencyCode,
          (totals.get(line.currencyCode) ?? 0n) + BigInt(line.priceMinor) * BigInt(line.quantity),
        );
      }
      return [...totals].map(([currencyCode, amountMinor]) => formatMoney({ currencyCode, amountMinor })).join(" + ");
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
