import { create } from "@bufbuild/protobuf";
import { CreateOrderRequestSchema } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { type CheckoutHarness, startCheckoutHarness } from "@shop/orders/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShop } from "../support/run-shop.js";

let h: CheckoutHarness;
let paidId = "";

beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addProduct("CLI-MUG", 1250n);
  await h.setStock("CLI-MUG", 10n);
  const { orders } = await h.customer("ada@example.com");
  const placed = await orders.createOrder(
    create(CreateOrderRequestSchema, {
      requestId: `orders-cli-${Date.now()}`,
      email: "ada@example.com",
      lines: [{ sku: "CLI-MUG", quantity: 2n }],
      shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
      paymentMethod: "pm_card_visa",
    }),
  );
  paidId = placed.id;
});
afterAll(() => h?.stop());

/** Runs `shop …` in-process against the orders service, as an operator, and returns what it printed. */
const shop = (...args: string[]) => runShop(h.ordersUrl, h.keys.operator, args);

describe("shop orders", () => {
  it("lists orders as a table and as JSON", async () => {
    const table = await shop("orders", "list");
    expect(table.code).toBe(0);
    expect(table.out.split("\n")[0]).toMatch(/^ID\s+STATE\s+TOTAL\s+LINES\s+EMAIL\s+CREATED$/);
    expect(table.out).toMatch(
      new RegExp(`${paidId}\\s+paid\\s+25\\.00 EUR\\s+CLI-MUG×2\\s+ada@example\\.com\\s+\\S+Z`),
    );
    const json = JSON.parse((await shop("orders", "list", "--state", "paid", "--json")).out);
    expect(json).toEqual([
      expect.objectContaining({
        id: paidId,
        state: "ORDER_STATE_PAID",
        total: { currencyCode: "EUR", amountMinor: "2500" },
      }),
    ]);
    expect(JSON.parse((await shop("orders", "list", "--state", "cancelled", "--json")).out)).toEqual([]);
  });

  it("shows one order with its lines, never its access token", async () => {
    const shown = await shop("orders", "get", paidId);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^state\s+paid$/m);
    expect(shown.out).toMatch(/CLI-MUG\s+Product CLI-MUG\s+2\s+12\.50 EUR\s+25\.00 EUR/);
    const json = JSON.parse((await shop("orders", "get", paidId, "--json")).out);
    expect(json).toMatchObject({ id: paidId, state: "ORDER_STATE_PAID", email: "ada@example.com", accessToken: "" });
    expect(json.lines).toHaveLength(1);
  });

  it("says what to do next on a mistake (exit 1) or a refusal (exit 2)", async () => {
    const badState = await shop("orders", "list", "--state", "lost");
    expect(badState.code).toBe(1);
    expect(badState.err).toMatch(/use one of pending, awaiting-payment, paid/);
    const missing = await shop("orders", "get", "ord_000000000000000000000000");
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/not found \(NotFound\)\nhint: check the id with the matching `list` command/);
    expect((await shop("orders", "recover", "--older-than", "soon")).code).toBe(1);
  });

  it("runs a recovery dry run, or says the service does not offer recovery yet", async () => {
    const run = await shop("orders", "recover", "--dry-run", "--json");
    if (run.code === 0) expect(JSON.parse(run.out)).toHaveProperty("orders");
    else {
      expect(run.code).toBe(2);
      expect(run.err).toMatch(/does not offer order recovery \(RecoverOrders\) yet/);
    }
  });
});
