import { randomUUID } from "node:crypto";
import { durationFromMs, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Order, type OrderLine, OrderSchema, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import {
  type RecoveredOrder,
  RecoveredOrderSchema,
  RecoverOrdersResponseSchema,
} from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { formatMoney, parseMoney } from "@shop/sdk";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { type Column, formatTable, messageJson, type OutputOptions, printJson, printRows } from "./output.js";

/** "awaiting-payment" from ORDER_STATE_AWAITING_PAYMENT. */
export const orderStateWord = (state: OrderState) =>
  (OrderState[state] ?? "unspecified").toLowerCase().replaceAll("_", "-");

const stateWords = Object.values(OrderState)
  .filter((value): value is OrderState => typeof value === "number" && value !== OrderState.UNSPECIFIED)
  .map(orderStateWord);

function parseState(word: string): OrderState {
  const state = Object.values(OrderState).find(
    (value): value is OrderState => typeof value === "number" && orderStateWord(value) === word,
  );
  if (state === undefined || state === OrderState.UNSPECIFIED) {
    throw new UsageError(`--state "${word}": use one of ${stateWords.join(", ")}`);
  }
  return state;
}

function positive(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${what} "${text}" must be a whole number above 0`);
  return value;
}

/** "90s", "15m", "2h", "1d" (or plain seconds) in milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${what} "${text}" must look like 90s, 15m, 2h or 1d`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? "s") as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

const time = (t: Order["createTime"]) =>
  t
    ? timestampDate(t)
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
    : "";
const lineWords = (order: Order) => order.lines.map((line) => `${line.sku}×${line.quantity}`).join(" ");

const orderColumns: Column<Order>[] = [
  { header: "ID", value: (o) => o.id },
  { header: "STATE", value: (o) => orderStateWord(o.state) },
  { header: "TOTAL", value: (o) => formatMoney(o.total), align: "right" },
  { header: "LINES", value: lineWords },
  { header: "EMAIL", value: (o) => o.email },
  { header: "CREATED", value: (o) => time(o.createTime) },
];

const lineColumns: Column<OrderLine>[] = [
  { header: "SKU", value: (l) => l.sku },
  { header: "TITLE", value: (l) => l.title },
  { header: "QTY", value: (l) => String(l.quantity), align: "right" },
  { header: "UNIT", value: (l) => formatMoney(l.unitPrice), align: "right" },
  { header: "TOTAL", value: (l) => formatMoney(l.lineTotal), align: "right" },
];

// The order access token is a credential: never printed, not even in --json.
const asJson = (order: Order) => messageJson(OrderSchema, { ...order, accessToken: "" });

/** One order for people: its facts, then its lines. */
function printOrder(options: OutputOptions, order: Order): void {
  if (options.json) {
    printJson(asJson(order));
    return;
  }
  const facts: Array<[string, string]> = [
    ["id", order.id],
    ["state", orderStateWord(order.state)],
    ["customer", order.customerId],
    ["email", order.email],
    ["total", formatMoney(order.total)],
    ["refunded", formatMoney(order.refunded)],
    ["payment", order.paymentIntentId],
    ["reason", order.cancelReason],
    ["tracking", [order.trackingNumber, order.carrier].filter((part) => part !== "").join(" ")],
    ["created", time(order.createTime)],
    ["updated", time(order.updateTime)],
  ];
  const shown = facts.filter(([, value]) => value !== "");
  const width = Math.max(...shown.map(([label]) => label.length));
  process.stdout.write(`${shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n")}\n\n`);
  process.stdout.write(formatTable(order.lines, lineColumns));
}

const recoveredColumns: Column<RecoveredOrder>[] = [
  { header: "ORDER", value: (r) => r.orderId },
  { header: "BEFORE", value: (r) => orderStateWord(r.stateBefore) },
  { header: "AFTER", value: (r) => orderStateWord(r.stateAfter) },
  { header: "ACTION", value: (r) => r.action },
];

/** A call the connected platform does not serve yet, said as such rather than as a bare "Unimplemented". */
function notServedYet(err: unknown, what: string): never {
  const error = ConnectError.from(err);
  if (error.code === Code.Unimplemented) {
    throw new ConnectError(
      `the orders service at this endpoint does not offer ${what} yet: update the platform, then run this again`,
      Code.Unimplemented,
    );
  }
  throw err;
}

/** `shop orders …`: customers' orders, for operators (and sellers, for the orders with their products). */
export function registerOrders(program: Command): void {
  const orders = program.command("orders").description("see orders, cancel, refund or fulfil them, recover stuck ones");

  orders
    .command("list")
    .description("list orders, newest first")
    .option("--state <state>", stateWords.join(", "))
    .option("--customer <id>", "only this customer's orders")
    .option("--limit <n>", "at most this many", "50")
    .option("--all", "every one, following all pages")
    .option("--json", "print JSON")
    .action(async (options: OutputOptions & { state?: string; customer?: string; limit: string; all?: boolean }) => {
      const state = options.state === undefined ? OrderState.UNSPECIFIED : parseState(options.state);
      const limit = options.all ? Number.POSITIVE_INFINITY : positive(options.limit, "--limit");
      const { client } = await createCliContext();
      const rows: Order[] = [];
      let pageToken = "";
      do {
        const pageSize = Math.min(1000, limit - rows.length);
        const page = await client.orders.listOrders({ state, customerId: options.customer, pageSize, pageToken });
        rows.push(...page.orders);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && rows.length < limit);
      printRows(options, rows, orderColumns, asJson);
      if (pageToken !== "" && !options.json) process.stderr.write("more orders: use --limit or --all\n");
    });

  orders
    .command("get <id>")
    .description("show one order with its lines")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions) => {
      const { client } = await createCliContext();
      printOrder(options, await client.orders.getOrder({ id }));
    });

  orders
    .command("cancel <id>")
    .description("cancel an order before it is fulfilled: its stock is released and its payment cancelled or refunded")
    .option("--reason <text>", "why, in words the customer can read", "cancelled by the shop")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions & { reason: string }) => {
      const { client } = await createCliContext();
      const order = await client.orders
        .cancelOrder({ id, reason: options.reason })
        .catch((err) => notServedYet(err, "CancelOrder"));
      printOrder(options, order);
    });

  orders
    .command("refund <id>")
    .description("refund a paid order, in full or (with --amount) in part")
    .option("--amount <decimal>", "how much, in the order's currency, e.g. 5.00; default: what is left")
    .option("--reason <text>", "why, in words the customer can read", "")
    .option("--request-id <key>", "idempotency key: the same key never refunds twice (default: a new one)")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions & { amount?: string; reason: string; requestId?: string }) => {
      const { client } = await createCliContext();
      let amount: ReturnType<typeof parseMoney> | undefined;
      if (options.amount !== undefined) {
        const currency = (await client.orders.getOrder({ id })).total?.currencyCode ?? "";
        try {
          amount = parseMoney(options.amount, currency);
        } catch (err) {
          throw new UsageError(`--amount: ${(err as Error).message}`);
        }
      }
      const requestId = options.requestId ?? `cli-refund-${randomUUID()}`;
      const order = await client.orders
        .refundOrder({ id, amount, reason: options.reason, requestId })
        .catch((err) => notServedYet(err, "RefundOrder"));
      printOrder(options, order);
      if (!options.json && options.requestId === undefined) {
        process.stderr.write(`to retry this refund safely, pass --request-id ${requestId}\n`);
      }
    });

  orders
    .command("fulfill <id>")
    .description("mark a paid order shipped (the customer is emailed)")
    .option("--tracking <number>", "the carrier's tracking number", "")
    .option("--carrier <name>", "who carries it, e.g. UPS", "")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions & { tracking: string; carrier: string }) => {
      const { client } = await createCliContext();
      const order = await client.orders
        .fulfillOrder({ id, trackingNumber: options.tracking, carrier: options.carrier })
        .catch((err) => notServedYet(err, "FulfillOrder"));
      printOrder(options, order);
    });

  orders
    .command("recover")
    .description("drive orders stuck between checkout steps forward, or compensate them (operators)")
    .option("--dry-run", "only report what would be done")
    .option("--older-than <duration>", "only orders unchanged for this long, e.g. 15m (default: the service's)")
    .option("--limit <n>", "at most this many orders (default: the service's)")
    .option("--json", "print JSON")
    .action(async (options: OutputOptions & { dryRun?: boolean; olderThan?: string; limit?: string }) => {
      const olderThan =
        options.olderThan === undefined ? undefined : durationFromMs(parseDuration(options.olderThan, "--older-than"));
      const limit = options.limit === undefined ? 0 : positive(options.limit, "--limit");
      const { client } = await createCliContext();
      const answer = await client.orders
        .recoverOrders({ dryRun: options.dryRun ?? false, olderThan, limit })
        .catch((err) => notServedYet(err, "order recovery (RecoverOrders)"));
      if (options.json) {
        printJson(messageJson(RecoverOrdersResponseSchema, answer));
        return;
      }
      if (answer.orders.length === 0) {
        process.stderr.write("no stuck orders\n");
        return;
      }
      printRows(options, answer.orders, recoveredColumns, (r) => messageJson(RecoveredOrderSchema, r));
      if (options.dryRun) process.stderr.write("dry run: nothing was changed; run without --dry-run to do it\n");
    });
}
