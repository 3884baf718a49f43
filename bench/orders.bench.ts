// Orders: checkouts per second end to end — bench client → StartCustomerSession → CreateOrder with pm_card_visa on the
// orders service (catalog price, inventory Reserve over Connect, Stripe PaymentIntent create + confirm through the SDK
// against the emulator, inventory Commit, order events) until the order comes back paid — vs the same calls made
// directly in the same run, one after another per checkout: Reserve + Commit over Connect with the orders' own service
// key, and the PaymentIntent create + confirm through the `stripe` SDK, as the orders service makes them. The gap is
// what the orders service adds in between (session, pricing, the saga's events). Both sides are interleaved in rounds.
// The stack is the orders suite's (`startCheckoutHarness` of @shop/orders/internal), all in this process; the
// gateway, and so its rate limits, is not in this path.

import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { type CheckoutHarness, orderIdFor, reservationIdOf, startCheckoutHarness } from "@shop/orders/internal";
import { clientFor } from "@shop/platform/testing";
import Stripe from "stripe";
import { type Comparison, compareInterleaved, report } from "./harness.js";

const concurrency = 8;
const priceMinor = 1250n;
const plenty = 1_000_000n;
const holdSeconds = 900n;

export default async function ordersBench(): Promise<void> {
  const h = await startCheckoutHarness();
  // Separate SKUs, same price and stock: neither side's holds or commits contend with the other's.
  const orderSku = "BENCH-ORDER-1";
  const directSku = "BENCH-DIRECT-1";
  for (const sku of [orderSku, directSku]) {
    await h.addProduct(sku, priceMinor);
    await h.setStock(sku, plenty);
  }

  // The direct calls, with what the orders service itself uses: its service key on inventory, the SDK on the emulator.
  const inventory = clientFor(InventoryService, h.ordersEnv.SHOP_UPSTREAM_INVENTORY as string, {
    credential: h.ordersEnv.SHOP_SERVICE_KEY as string,
  });
  const emulator = new URL(h.emulatorUrl);
  const stripe = new Stripe(h.ordersEnv.SHOP_STRIPE_SECRET_KEY as string, {
    host: emulator.hostname,
    port: Number(emulator.port),
    protocol: "http",
    maxNetworkRetries: 2,
  });

  // Ids never repeat, also across warm-up and rounds, so every call is real work (no idempotent replay).
  let next = 0;
  const run = `${Date.now()}`;

  const checkout = async () => {
    const n = next++;
    const { orders } = await h.customer(`bench-${run}-${n}@example.com`);
    const placed = await orders.createOrder({
      requestId: `bench-${run}-${n}`,
      email: `bench-${run}-${n}@example.com`,
      lines: [{ sku: orderSku, quantity: 1n }],
      shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
      paymentMethod: "pm_card_visa",
    });
    if (placed.state !== OrderState.PAID) throw new Error(`order ${placed.id} is ${OrderState[placed.state]}`);
  };

  const direct = async () => {
    const n = next++;
    const id = orderIdFor("bench-direct", `${run}-${n}`);
    const reservationId = reservationIdOf(id);
    await inventory.reserve({
      reservationId,
      lines: [{ sku: directSku, quantity: 1n }],
      ttl: { seconds: holdSeconds },
      reference: id,
    });
    // No order_id in the metadata: the emulator's webhook to the orders service is verified and ignored.
    const intent = await stripe.paymentIntents.create(
      { amount: Number(priceMinor), currency: "eur", metadata: { bench: id } },
      { idempotencyKey: `${id}:intent-create` },
    );
    const confirmed = await stripe.paymentIntents.confirm(
      intent.id,
      { payment_method: "pm_card_visa" },
      { idempotencyKey: `${id}:intent-confirm` },
    );
    if (confirmed.status !== "succeeded") throw new Error(`intent ${intent.id} is ${confirmed.status}`);
    await inventory.commit({ reservationId });
  };

  const paymentsBefore = await h.payments();
  const comparisons: Comparison[] = [
    await compareInterleaved(
      `checkout (${concurrency} at once)`,
      { label: "Reserve + intent create/confirm + Commit, direct", op: direct, concurrency },
      { label: "session + CreateOrder → paid", op: checkout, concurrency },
    ),
  ];
  const paymentsAfter = await h.payments();
  const [orderLevel, directLevel] = await Promise.all([h.stock(orderSku), h.stock(directSku)]);
  const race = await runRace(h);

  report({
    benchmark: "orders",
    comparisons,
    // Client, orders, inventory and the emulator all share this process: ops per CPU-second holds up under load.
    inProcess: true,
    extra: {
      path: "in process: bench client → orders (Connect) → inventory (Connect, Redis) + Stripe emulator (SDK over HTTP)",
      gateway: "not in this path: no gateway, so none of its rate limits apply",
      concurrency,
      "charges succeeded during the runs": paymentsAfter.charges.succeeded - paymentsBefore.charges.succeeded,
      "units left / reserved, orders SKU": `${orderLevel.onHand} / ${orderLevel.reserved}`,
      "units left / reserved, direct SKU": `${directLevel.onHand} / ${directLevel.reserved}`,
      "race: 500 checkouts for 50 units over two replicas, settled in (s)": race.seconds,
      "race outcomes (must be 50 paid, 450 out of stock)": race.outcomes,
      "race: units left / charges succeeded": `${race.left} / ${race.charged}`,
    },
  });

  await h.stop();
}

/** The race of issue 9 on its own SKU (see `CheckoutHarness.race`), with what it left in stock and charged. */
async function runRace(h: CheckoutHarness) {
  const sku = "BENCH-RACE-1";
  await h.addProduct(sku, priceMinor);
  await h.setStock(sku, 50n);
  const before = await h.payments();
  const { outcomes, seconds } = await h.race(sku, 500);
  const after = await h.payments();
  return {
    seconds,
    outcomes,
    left: (await h.stock(sku)).onHand,
    charged: after.charges.succeeded - before.charges.succeeded,
  };
}
