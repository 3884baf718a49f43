// ListOrders pages through the read model with an opaque cursor: newest first, stable while orders are placed between
// two pages, bound to its filters, and refused clearly when it is not a token of this listing.
import { create } from "@bufbuild/protobuf";
import { type Client, Code } from "@connectrpc/connect";
import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema, type OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { errorOf, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckoutHarness, startCheckoutHarness } from "./support/checkout-harness.js";

let h: CheckoutHarness;
let placed = 0;

beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addProduct("PAGE-1", 300n);
  await h.setStock("PAGE-1", 100n);
});
afterAll(() => h?.stop());

const place = (orders: Client<typeof OrderService>, paymentMethod = "pm_card_visa") =>
  orders.createOrder(
    create(CreateOrderRequestSchema, {
      requestId: `page-order-${++placed}`,
      email: "pager@example.com",
      lines: [{ sku: "PAGE-1", quantity: 1n }],
      shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
      paymentMethod,
    }),
  );

/** Every page of a listing, following next_page_token to the end. */
async function allPages(
  orders: Client<typeof OrderService>,
  request: { pageSize: number; state?: OrderState },
): Promise<Order[][]> {
  const pages: Order[][] = [];
  let pageToken = "";
  do {
    const page = await orders.listOrders({ ...request, pageToken });
    pages.push(page.orders);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return pages;
}

const ids = (orders: Order[]) => orders.map((order) => order.id);

/** Lists follow the order stream a moment behind a write: waits until the listing shows the order as it is now. */
const listed = (orders: Client<typeof OrderService>, order: Order) =>
  waitFor(
    async () =>
      (await orders.listOrders({ pageSize: 1000 })).orders.find((o) => o.id === order.id)?.version === order.version,
    5_000,
    `${order.id} listed`,
  );

describe("ListOrders paging", () => {
  it("follows pages newest first without gaps or repeats, unmoved by orders placed in between", async () => {
    const ada = await h.customer("ada@example.com");
    const bob = await h.customer("bob@example.com");
    const adas: Order[] = [];
    for (let i = 0; i < 5; i++) adas.push(await place(ada.orders));
    await listed(ada.orders, adas[4] as Order);
    await listed(bob.orders, await place(bob.orders));
    const newestFirst = ids(adas).reverse();

    expect((await allPages(ada.orders, { pageSize: 2 })).map(ids)).toEqual([
      newestFirst.slice(0, 2),
      newestFirst.slice(2, 4),
      newestFirst.slice(4),
    ]);

    const first = await ada.orders.listOrders({ pageSize: 2 });
    const later = await place(ada.orders);
    await listed(ada.orders, later);
    const second = await ada.orders.listOrders({ pageSize: 2, pageToken: first.nextPageToken });
    expect(ids(second.orders)).toEqual(newestFirst.slice(2, 4));
    expect(ids((await ada.orders.listOrders({ pageSize: 1 })).orders)).toEqual([later.id]);
  });

  it("pages an operator's filtered listing over every customer", async () => {
    const carol = await h.customer("carol@example.com");
    const declined = await place(carol.orders, "pm_card_chargeDeclined");
    expect(declined.state).toBe(OrderState.CANCELLED);
    const operator = h.client(h.keys.operator);
    await listed(operator, declined);
    const everything = (await allPages(operator, { pageSize: 1000 })).flat();
    const paid = await allPages(operator, { pageSize: 3, state: OrderState.PAID });
    expect(paid.slice(0, -1).every((page) => page.length === 3)).toBe(true);
    expect(ids(paid.flat())).toEqual(ids(everything.filter((order) => order.state === OrderState.PAID)));
    expect(ids(paid.flat())).not.toContain(declined.id);
    const cancelled = await operator.listOrders({ state: OrderState.CANCELLED });
    expect(ids(cancelled.orders)).toEqual([declined.id]);
  });

  it("refuses a token that is not one, or one from other filters, naming page_token; and too large a page", async () => {
    const operator = h.client(h.keys.operator);
    const garbage = await errorOf(operator.listOrders({ pageToken: "bm90LWEtdG9rZW4" }));
    expect(garbage.code).toBe(Code.InvalidArgument);
    expect(garbage.rawMessage).toMatch(/page_token/);

    const { nextPageToken } = await operator.listOrders({ pageSize: 1 });
    expect(nextPageToken).not.toBe("");
    const reused = await errorOf(
      operator.listOrders({ pageSize: 1, pageToken: nextPageToken, state: OrderState.PAID }),
    );
    expect(reused.code).toBe(Code.InvalidArgument);
    expect(reused.rawMessage).toMatch(/page_token.*other filters/);

    const tooLarge = await errorOf(operator.listOrders({ pageSize: 1001 }));
    expect(tooLarge.code).toBe(Code.InvalidArgument);
    expect(tooLarge.rawMessage).toMatch(/page_size/);
  });
});
