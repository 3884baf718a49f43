// Redis loss of issue 9: the inventory runs on a redis-server this test owns, and in the middle of a burst of checkouts
// that server is killed (SIGKILL, no save: every key is gone) and started again empty, or flushed while it runs. The
// inventory rebuilds from its JetStream ledger and order recovery settles what the loss interrupted. Afterwards the three books agree —
// units of paid orders = units committed in the ledger = units gone from stock — nothing is oversold or held, every
// order is final, and no order was charged twice.
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { DeliverPolicy } from "@nats-io/jetstream";
import { ReservationChangedSchema, StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { type Reservation, ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema, type OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { decodeEvent, eventContract, eventSubjectFilter, eventTypeHeader, namespacedStream } from "@shop/platform";
import { type OwnServer, startOwnRedis, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderIdFor, reservationIdOf } from "../src/domain/order-ids.js";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

const inStock = 40;
/** Checkouts in the burst. */
const burst = 120;
/** Checkouts in flight at once: enough for a burst, few enough that the burst lasts past the kill. */
const inFlight = 12;
/** Redis loses its data once this many checkouts have answered. */
const lossAfter = 30;

let redis: OwnServer;
let h: CheckoutHarness;

beforeAll(async () => {
  redis = await startOwnRedis();
  h = await startCheckoutHarness({
    inventoryEnv: { SHOP_REDIS_URL: redis.url, SHOP_INVENTORY_SWEEP_INTERVAL_MS: "200" },
    ordersEnv: { SHOP_ORDERS_RECOVERY_AFTER_S: "1", SHOP_ORDERS_RECOVERY_INTERVAL_S: "1" },
  });
}, 30_000);
afterAll(async () => {
  await h?.stop();
  await redis?.dispose();
});

const request = (sku: string, i: number) =>
  create(CreateOrderRequestSchema, {
    requestId: `${sku}-${i}`,
    email: "burst@example.com",
    lines: [{ sku, quantity: 1n }],
    shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
    // Every tenth card of the burst is declined, so releases run through the loss too.
    paymentMethod: i < burst && i % 10 === 9 ? "pm_card_chargeDeclined" : "pm_card_visa",
  });

/** The last ReservationChanged of each of these reservations in the inventory's ledger (JetStream), by id. */
async function ledgerReservations(ids: Set<string>): Promise<Map<string, Reservation>> {
  const last = new Map<string, Reservation>();
  for (const event of await readLedger(ReservationChangedSchema)) {
    if (event.reservation && ids.has(event.reservation.id)) last.set(event.reservation.id, event.reservation);
  }
  return last;
}

/** Every event of one type in the inventory's ledger, oldest first. */
async function readLedger<Desc extends DescMessage>(schema: Desc): Promise<MessageShape<Desc>[]> {
  const { js } = h.jetstream;
  const consumer = await js.consumers.get(namespacedStream(h.env.namespace, eventContract(schema).stream), {
    filter_subjects: eventSubjectFilter(schema, h.env.namespace),
    deliver_policy: DeliverPolicy.All,
  });
  const events: MessageShape<Desc>[] = [];
  if ((await consumer.info(true)).num_pending > 0) {
    const messages = await consumer.consume();
    for await (const msg of messages) {
      if (msg.headers?.get(eventTypeHeader) === schema.typeName) events.push(decodeEvent(schema, msg.data));
      if (msg.info.pending === 0) break;
    }
    await messages.close();
  }
  await consumer.delete().catch(() => undefined);
  return events;
}

interface ListedIntent {
  id: string;
  status: string;
  amount: number;
  metadata: Record<string, string>;
}

/** Kills the test's redis-server (SIGKILL: nothing saved) and starts it again empty, or flushes it while it runs. */
const loseRedis = {
  async killed() {
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.start();
  },
  async flushed() {
    await h.inventoryService.redis.flushall();
  },
};

describe.each(["killed", "flushed"] as const)("Redis %s in the middle of a burst of checkouts", (loss) => {
  it("keeps sales, ledger, stock and charges in agreement", async () => {
    const sku = `LOSS-${loss}`;
    await h.addProduct(sku, 700n);
    await h.setStock(sku, BigInt(inStock));
    await h.inventoryService.outboxDrained();
    // Stock as the inventory reports it, sampled all along: never below zero.
    const sampler = sampleStock(sku);
    try {
      await burstThroughRedisLoss(sku, loss);
    } finally {
      await sampler.stop();
    }
    expect(sampler.lowest.onHand).toBeGreaterThanOrEqual(0n);
    expect(sampler.lowest.available).toBeGreaterThanOrEqual(0n);
  }, 120_000);
});

/** Polls the SKU's level until stopped and keeps the lowest on_hand and available seen (reads failing meanwhile). */
function sampleStock(sku: string) {
  const lowest = { onHand: BigInt(inStock), available: BigInt(inStock) };
  let sampling = true;
  const loop = (async () => {
    while (sampling) {
      const level = await h.stock(sku).catch(() => undefined);
      if (level !== undefined && level.onHand < lowest.onHand) lowest.onHand = level.onHand;
      if (level !== undefined && level.available < lowest.available) lowest.available = level.available;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    lowest,
    async stop() {
      sampling = false;
      await loop;
    },
  };
}

/**
 * CreateOrder for requests `first` … `first + count - 1`, `inFlight` at a time: what the callers heard, counted.
 * `afterEach` is told how many have answered so far.
 */
async function checkouts(
  client: Client<typeof OrderService>,
  sku: string,
  first: number,
  count: number,
  afterEach: (answered: number) => void = () => undefined,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = first;
  let answered = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < first + count) {
        const i = next++;
        let outcome: string;
        try {
          outcome = OrderState[(await client.createOrder(request(sku, i))).state] ?? "?";
        } catch (err) {
          const error = ConnectError.from(err);
          outcome = error.code === Code.ResourceExhausted ? "out of stock" : Code[error.code];
        }
        counts[outcome] = (counts[outcome] ?? 0) + 1;
        afterEach(++answered);
      }
    }),
  );
  return counts;
}

/** Waits until each of these orders is paid or cancelled, and returns them. */
async function settled(ids: string[]): Promise<Order[]> {
  const final = new Map<string, Order>();
  await waitFor(
    async () => {
      for (const id of ids) {
        const order = (await h.orders.readModel.get(id))?.order;
        if (order === undefined) continue;
        if (order.state !== OrderState.PAID && order.state !== OrderState.CANCELLED) return false;
        final.set(id, order);
      }
      return true;
    },
    60_000,
    "every order paid or cancelled",
  );
  return [...final.values()];
}

const unitsOf = (orders: Order[]) => orders.reduce((sum, order) => sum + Number(order.lines[0]?.quantity ?? 0n), 0);
const isPaid = (order: Order) => order.state === OrderState.PAID;

/**
 * The burst with the loss in its middle, the rebuild and recovery; then what is left of the stock is sold on the
 * rebuilt state, and every book is checked against the others.
 */
async function burstThroughRedisLoss(sku: string, loss: keyof typeof loseRedis) {
  const { token, customerId } = await h.customer();
  const client = h.client(token);
  const before = await h.payments();
  const started = performance.now();
  let lost: Promise<void> | undefined;
  const heard = await checkouts(client, sku, 0, burst, (answered) => {
    if (answered === lossAfter) lost = loseRedis[loss]();
  });
  await lost;
  const burstMs = performance.now() - started;

  // Any call on the emptied Redis starts the rebuild; until it is done, reads say Unavailable.
  await waitFor(async () => (await h.stock(sku).catch(() => undefined)) !== undefined, 30_000, "inventory restored");
  await h.inventoryService.rebuild.idle();
  const idsUpTo = (count: number) => Array.from({ length: count }, (_, i) => orderIdFor(customerId, `${sku}-${i}`));
  const soldInBurst = unitsOf((await settled(idsUpTo(burst))).filter(isPaid));
  const settleMs = performance.now() - started;

  // What is left sells on the rebuilt state exactly once: the units still in stock, then out of stock.
  const left = inStock - soldInBurst;
  const afterwards = await checkouts(client, sku, burst, left + 5);
  console.log(
    `redis ${loss}: ${burst} checkouts in ${burstMs.toFixed(0)} ms, all settled after ${settleMs.toFixed(0)} ms`,
    heard,
    `then ${left} units left to sell on the rebuilt state:`,
    afterwards,
  );
  expect(afterwards).toEqual(left === 0 ? { "out of stock": 5 } : { PAID: left, "out of stock": 5 });

  // What callers heard: a sale, a clear refusal, or Unavailable while Redis was gone; never Internal or Unknown.
  expect(
    Object.keys(heard).filter((outcome) => !["PAID", "CANCELLED", "out of stock", "Unavailable"].includes(outcome)),
  ).toEqual([]);
  expect(heard.PAID ?? 0).toBeGreaterThan(0);

  // Every order is final, and the whole stock was sold once.
  const ids = idsUpTo(burst + left + 5);
  const orders = await settled(ids);
  expect(orders.length).toBe(ids.length);
  const paid = orders.filter(isPaid);
  const unitsPaid = unitsOf(paid);
  expect(unitsPaid).toBe(inStock);

  // The ledger: exactly the paid orders' reservations are committed, none is still held.
  const reservations = await ledgerReservations(new Set(ids.map(reservationIdOf)));
  const committed = [...reservations.values()].filter((r) => r.state === ReservationState.COMMITTED);
  const unitsCommitted = committed.reduce((sum, r) => sum + Number(r.lines[0]?.quantity ?? 0n), 0);
  expect(new Set(committed.map((r) => r.id))).toEqual(new Set(paid.map((order) => reservationIdOf(order.id))));
  expect(unitsCommitted).toBe(unitsPaid);
  expect([...reservations.values()].filter((r) => r.state === ReservationState.HELD).map((r) => r.id)).toEqual([]);
  const lastLevel = (await readLedger(StockChangedSchema)).filter((event) => event.level?.sku === sku).at(-1)?.level;
  expect(lastLevel).toMatchObject({ onHand: BigInt(inStock - unitsPaid), reserved: 0n });

  // The live stock: sold units gone, nothing held, no hold left behind.
  expect(await h.stock(sku)).toEqual({
    onHand: BigInt(inStock - unitsPaid),
    reserved: 0n,
    available: BigInt(inStock - unitsPaid),
  });
  const held = await h.inventory.listReservations({ state: ReservationState.HELD });
  expect(held.reservations.map((r) => r.id)).toEqual([]);

  // Charges: at most one successful intent per order, exactly one per paid order; money kept = paid orders' totals.
  const intents = (await h.emulatorGet<{ data: ListedIntent[] }>("/_emulator/payment_intents")).data.filter((intent) =>
    ids.includes(intent.metadata.order_id ?? ""),
  );
  const succeeded = new Map<string, number>();
  for (const intent of intents.filter((intent) => intent.status === "succeeded")) {
    const orderId = intent.metadata.order_id ?? "";
    succeeded.set(orderId, (succeeded.get(orderId) ?? 0) + 1);
  }
  expect([...succeeded.values()].filter((n) => n > 1)).toEqual([]);
  for (const order of paid) expect(succeeded.get(order.id), order.id).toBe(1);
  const after = await h.payments();
  const charged = after.charges.succeeded - before.charges.succeeded;
  const refunded = after.refunds.created - before.refunds.created;
  expect(charged - refunded).toBe(paid.length);
  const kept = (after.charges.amount_captured.eur ?? 0) - (after.refunds.amount_refunded.eur ?? 0);
  const keptBefore = (before.charges.amount_captured.eur ?? 0) - (before.refunds.amount_refunded.eur ?? 0);
  expect(kept - keptBefore).toBe(unitsPaid * 700);
}
