import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Kvm } from "@nats-io/kv";
import { MoneySchema } from "@shop/contracts/shop/common/v1/money_pb.js";
import { type Order, OrderSchema } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { createLogger, type EventConsumer } from "@shop/platform";
import { waitFor } from "@shop/platform/testing";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  composeOrderEmail,
  createClaimedMailOutbox,
  createFileMailOutbox,
  formatMoney,
  type MailOutbox,
  type OutgoingMail,
  sentMailBucket,
  startOrderNotifications,
} from "../src/internal.js";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

let h: CheckoutHarness;
let requests = 0;
const silent = createLogger("test", "silent");

beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addProduct("MAIL-MUG", 1250n);
  await h.setStock("MAIL-MUG", 100n);
});
afterAll(() => h?.stop());

const checkout = async (paymentMethod = "pm_card_visa") => {
  const { orders } = await h.customer("ada@example.com");
  return orders.createOrder(
    create(CreateOrderRequestSchema, {
      requestId: `mail-${++requests}-${Date.now()}`,
      email: "ada@example.com",
      lines: [{ sku: "MAIL-MUG", quantity: 2n }],
      shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", postalCode: "75001", countryCode: "FR" },
      paymentMethod,
    }),
  );
};

/** Headers (folded lines joined) and the quoted-printable body decoded, of a raw `.eml`. */
const parseEml = (raw: string) => {
  const [head = "", ...rest] = raw.split("\n\n");
  const body = rest.join("\n\n").replaceAll("=\n", "");
  const bytes = body.replaceAll(/=([0-9A-F]{2})/g, (_, hex: string) => `%${hex}`);
  return {
    headers: head.replaceAll(/\n[ \t]+/g, " "),
    text: decodeURIComponent(bytes.replaceAll(/%(?![0-9A-F]{2})/g, "%25")),
  };
};

/** The `.eml` files of one order in the outbox, by name. */
const emailsOf = async (orderId: string) =>
  (await readdir(h.mailOutboxDir)).filter((name) => name.startsWith(orderId) && name.endsWith(".eml")).sort();

describe("order emails", () => {
  it("sends one confirmation with the lines and totals in the currency's format", async () => {
    const placed = await checkout();
    await waitFor(async () => (await emailsOf(placed.id)).length > 0, 10_000, "confirmation email");
    const files = await emailsOf(placed.id);
    expect(files).toEqual([`${placed.id}-v5.order-confirmation.eml`]);
    const { headers, text } = parseEml(await readFile(join(h.mailOutboxDir, files[0] as string), "utf8"));
    expect(headers).toMatch(/^To: ada@example\.com$/m);
    expect(headers).toMatch(new RegExp(`^Message-ID: <${placed.id}-v5\\.order-confirmation@shop\\.localhost>$`, "m"));
    expect(headers).toMatch(/^Subject: Your order ord_\w+ is confirmed$/m);
    expect(text).toContain(`Order ${placed.id}`);
    expect(text).toMatch(/2 × Product MAIL-MUG\s+MAIL-MUG\s+€12\.50 each\s+€25\.00/);
    expect(text).toMatch(/Total:\s+€25\.00/);
  });

  it("tells the customer a declined payment failed, why, and that nothing was charged", async () => {
    const placed = await checkout("pm_card_chargeDeclined");
    await waitFor(async () => (await emailsOf(placed.id)).length > 0, 10_000, "payment failed email");
    const files = await emailsOf(placed.id);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.payment-failed\.eml$/);
    const { text } = parseEml(await readFile(join(h.mailOutboxDir, files[0] as string), "utf8"));
    expect(text).toMatch(/did not go through: .*declined/i);
    expect(text).toMatch(/You were not charged/);
  });

  it("sends each email once even when its event is redelivered or the consumer restarts", async () => {
    const placed = await checkout();
    await waitFor(async () => (await emailsOf(placed.id)).length > 0, 10_000, "confirmation email");
    const [file] = await emailsOf(placed.id);
    const firstWrite = (await stat(join(h.mailOutboxDir, file as string))).mtimeMs;

    // A second consumer over the same outbox replays the whole stream, and "crashes" (throws) after its first send
    // of each mail, before the ack: every event comes again.
    const outbox = await createFileMailOutbox(h.mailOutboxDir);
    const outcomes = new Map<string, string[]>();
    const crashing: MailOutbox = {
      ...outbox,
      async sendOnce(mail) {
        const outcome = await outbox.sendOnce(mail);
        const seen = outcomes.get(mail.id) ?? [];
        outcomes.set(mail.id, [...seen, outcome]);
        if (seen.length === 0) throw new Error("crashed after sending, before the ack");
        return outcome;
      },
    };
    const start = () =>
      startOrderNotifications({
        js: h.jetstream.js,
        jsm: h.jetstream.jsm,
        namespace: h.env.namespace,
        logger: silent,
        outbox: crashing,
        from: "Shop <orders@shop.localhost>",
        loadOrder: async (id) => (await h.orders.readModel.get(id))?.order,
        consumerName: "notifications-replay",
        deliverPolicy: "all",
        backoffMs: [10],
      });
    let consumer: EventConsumer = await start();
    await consumer.caughtUp(15_000);
    await consumer.stop();
    consumer = await start(); // the durable consumer resumes where it stopped: nothing is sent again
    await consumer.caughtUp(15_000);
    await consumer.stop();

    expect(outcomes.get(`${placed.id}:v5/order-confirmation`)).toEqual(["already-sent", "already-sent"]);
    expect(await emailsOf(placed.id)).toEqual([file]);
    expect((await stat(join(h.mailOutboxDir, file as string))).mtimeMs).toBe(firstWrite);
    expect((await readdir(join(h.mailOutboxDir, ".partial"))).length).toBe(0);
  });
});

describe("the SMTP outbox", () => {
  const mail = (id: string): OutgoingMail => ({
    id,
    from: "Shop <orders@shop.localhost>",
    to: "ada@example.com",
    subject: "Your order is confirmed",
    text: "Hello",
    date: new Date(0),
  });

  it("claims each mail id in a KV bucket before sending, so a second send of the id sends nothing", async () => {
    const kv = await new Kvm(h.jetstream.js).create(sentMailBucket(h.env.namespace), { history: 1 });
    const sent: string[] = [];
    const transport = nodemailer.createTransport({ jsonTransport: true });
    const outbox = createClaimedMailOutbox({
      kv,
      transport: {
        ...transport,
        sendMail: async (options: { messageId?: string }) => {
          sent.push(String(options.messageId));
          return transport.sendMail(options);
        },
      } as unknown as typeof transport,
      where: "smtp://test",
      logger: silent,
    });
    expect(await outbox.sendOnce(mail("ord_1:v5/order-confirmation"))).toBe("sent");
    expect(await outbox.sendOnce(mail("ord_1:v5/order-confirmation"))).toBe("already-sent");
    expect(sent).toEqual(["<ord_1-v5.order-confirmation@shop.localhost>"]);
  });

  it("retries a mail the server never received, and never retries one it may have taken", async () => {
    const kv = await new Kvm(h.jetstream.js).create(sentMailBucket(h.env.namespace), { history: 1 });
    let failure: (Error & { code?: string }) | undefined;
    const transport = {
      sendMail: async () => {
        if (failure !== undefined) throw failure;
        return {};
      },
      close() {},
    };
    const outbox = createClaimedMailOutbox({
      kv,
      transport: transport as never,
      where: "smtp://test",
      logger: silent,
    });
    failure = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNECTION" });
    await expect(outbox.sendOnce(mail("ord_2:v5/order-confirmation"))).rejects.toThrow(/ECONNREFUSED/);
    failure = undefined;
    expect(await outbox.sendOnce(mail("ord_2:v5/order-confirmation"))).toBe("sent");

    failure = Object.assign(new Error("connection closed after DATA"), { code: "ECONNRESET" });
    expect(await outbox.sendOnce(mail("ord_3:v5/order-confirmation"))).toBe("abandoned");
    failure = undefined;
    expect(await outbox.sendOnce(mail("ord_3:v5/order-confirmation"))).toBe("already-sent");
  });
});

describe("email text", () => {
  const order = (currencyCode: string, unit: bigint): Order =>
    create(OrderSchema, {
      id: "ord_1",
      email: "ada@example.com",
      lines: [
        {
          sku: "MUG-1",
          title: "Mug",
          quantity: 3n,
          unitPrice: { currencyCode, amountMinor: unit },
          lineTotal: { currencyCode, amountMinor: 3n * unit },
        },
      ],
      subtotal: { currencyCode, amountMinor: 3n * unit },
      total: { currencyCode, amountMinor: 3n * unit },
    });

  it("formats money exactly with the currency's own decimals", () => {
    expect(formatMoney({ currencyCode: "EUR", amountMinor: 1250n })).toBe("€12.50");
    expect(formatMoney({ currencyCode: "JPY", amountMinor: 1250n })).toBe("¥1,250");
    expect(formatMoney({ currencyCode: "KWD", amountMinor: 5n })).toMatch(/^KWD\s0\.005$/);
    expect(formatMoney({ currencyCode: "USD", amountMinor: 900719925474099312n })).toBe("$9,007,199,254,740,993.12");
  });

  it("lists lines and totals, and says what a refund and a shipment mean", () => {
    expect(composeOrderEmail(order("JPY", 500n), { kind: "order-confirmation" }).text).toMatch(
      /3 × Mug\s+MUG-1\s+¥500 each\s+¥1,500[\s\S]*Total:\s+¥1,500/,
    );
    const refund = composeOrderEmail(order("EUR", 1000n), {
      kind: "refunded",
      amount: create(MoneySchema, { currencyCode: "EUR", amountMinor: 1000n }),
      reason: "damaged in transit",
    });
    expect(refund.subject).toBe("Refund of €10.00 for order ord_1");
    expect(refund.text).toContain("Reason: damaged in transit");
    const shipped = composeOrderEmail(order("EUR", 1000n), {
      kind: "shipped",
      trackingNumber: "1Z999",
      carrier: "UPS",
    });
    expect(shipped.text).toContain("Tracking number: 1Z999 (UPS)");
  });
});
