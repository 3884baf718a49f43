import { create } from "@bufbuild/protobuf";
import { type Money, MoneySchema } from "@shop/contracts/shop/common/v1/money_pb.js";
import { type OrderLine, OrderLineSchema } from "@shop/contracts/shop/orders/v1/order_pb.js";
import type { CreateOrderLine } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { InvalidInputError, PreconditionError } from "@shop/platform";
import { type CatalogEntry, isSellable } from "./catalog-prices.js";

export interface PricedLines {
  lines: OrderLine[];
  subtotal: Money;
}

/**
 * Prices the requested lines from the catalog as it is now: the client names SKUs and quantities, never prices.
 * Unknown SKUs, products not on sale, a SKU twice and mixed currencies are refused, naming the line.
 */
export function priceLines(
  requested: readonly CreateOrderLine[],
  lookup: (sku: string) => CatalogEntry | undefined,
): PricedLines {
  const seen = new Set<string>();
  let currency: string | undefined;
  let subtotal = 0n;
  const lines = requested.map((line, index) => {
    const field = `lines[${index}]`;
    if (seen.has(line.sku))
      throw new InvalidInputError(field, `${line.sku} appears twice; put the quantities in one line`);
    seen.add(line.sku);
    const entry = lookup(line.sku);
    if (entry === undefined) throw new InvalidInputError(field, `there is no product with SKU ${line.sku}`);
    if (!isSellable(entry)) throw new PreconditionError(`${field}: ${line.sku} is not on sale`);
    currency ??= entry.unitPrice.currencyCode;
    if (entry.unitPrice.currencyCode !== currency) {
      throw new InvalidInputError(
        field,
        `${line.sku} is priced in ${entry.unitPrice.currencyCode}, the order in ${currency}: one currency per order`,
      );
    }
    const lineTotal = entry.unitPrice.amountMinor * line.quantity;
    subtotal += lineTotal;
    return create(OrderLineSchema, {
      sku: line.sku,
      productId: entry.productId,
      title: entry.title,
      quantity: line.quantity,
      unitPrice: entry.unitPrice,
      lineTotal: create(MoneySchema, { currencyCode: currency, amountMinor: lineTotal }),
      sellerId: entry.sellerId,
    });
  });
  return { lines, subtotal: create(MoneySchema, { currencyCode: currency ?? "", amountMinor: subtotal }) };
}
