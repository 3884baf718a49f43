import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Order, OrderSchema } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { describe, expect, it } from "vitest";
import { encodeOrderPageToken, orderSortKey, pageOfOrders } from "./order-paging.js";

const order = (id: string, createMs: number): Order =>
  create(OrderSchema, { id, createTime: timestampFromMs(createMs) });

const ids = (orders: Order[]) => orders.map((o) => o.id);
const all = [order("ord_a1", 1_000), order("ord_b2", 3_000), order("ord_c3", 2_000), order("ord_d4", 3_000)];

describe("ListOrders paging", () => {
  it("lists newest first, a millisecond's ties by id, and pages on without gaps or repeats", () => {
    const first = pageOfOrders(all, { pageSize: 3, pageToken: "", filters: "f" });
    expect(ids(first.orders)).toEqual(["ord_d4", "ord_b2", "ord_c3"]);
    const second = pageOfOrders(all, { pageSize: 3, pageToken: first.nextPageToken, filters: "f" });
    expect(ids(second.orders)).toEqual(["ord_a1"]);
    expect(second.nextPageToken).toBe("");
  });

  it("keeps a page boundary in place when newer orders arrive between two pages", () => {
    const first = pageOfOrders(all, { pageSize: 2, pageToken: "", filters: "f" });
    const grown = [...all, order("ord_e5", 9_000), order("ord_f6", 2_500)];
    const rest = pageOfOrders(grown, { pageSize: 10, pageToken: first.nextPageToken, filters: "f" });
    expect(ids(rest.orders)).toEqual(["ord_f6", "ord_c3", "ord_a1"]);
  });

  it("has no next page when the last page is exactly full", () => {
    expect(pageOfOrders(all, { pageSize: 4, pageToken: "", filters: "f" }).nextPageToken).toBe("");
  });

  it("refuses a token that is not one, or that belongs to other filters, naming page_token", () => {
    const page =
      (pageToken: string, filters = "f") =>
      () =>
        pageOfOrders(all, { pageSize: 2, pageToken, filters });
    expect(page("not a token")).toThrow(/^page_token: not a token from ListOrders/);
    expect(page(Buffer.from("42").toString("base64url"))).toThrow(/^page_token: /);
    expect(page(encodeOrderPageToken("1; drop", "f"))).toThrow(/^page_token: not a token/);
    const token = pageOfOrders(all, { pageSize: 2, pageToken: "", filters: "f" }).nextPageToken;
    expect(page(token, "g")).toThrow(/^page_token: belongs to a listing with other filters/);
  });

  it("carries no customer or seller id in its tokens", () => {
    const filters = "customer=cus_hidden&seller=&state=0";
    const token = pageOfOrders(all, { pageSize: 1, pageToken: "", filters }).nextPageToken;
    expect(Buffer.from(token, "base64url").toString()).not.toContain("cus_hidden");
    expect(ids(pageOfOrders(all, { pageSize: 1, pageToken: token, filters }).orders)).toEqual(["ord_b2"]);
  });

  it("sorts by the creation time's value, not its digits", () => {
    expect(orderSortKey(order("ord_x", 999)) < orderSortKey(order("ord_x", 1_000))).toBe(true);
  });
});
