import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { OrderSchema } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Code, ConnectError, startCustomerSession } from "../src/index.js";
import { startTestServer, type TestServer } from "./test-server.js";

/** One clock for the server's token expiry and the client's renewal, moved by the tests instead of waiting. */
let clock = 0;
const sessionMs = 60 * 60_000;
/** Tokens the server accepts, with when each expires; a test can forget them all, as a key rotation would. */
const tokens = new Map<string, { customerId: string; expiresAtMs: number }>();
let issued = 0;
/** When set, the server refuses every token, new ones included. */
let refusingAll = false;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer((router) =>
    router.service(OrderService, {
      startCustomerSession(_req, ctx) {
        // As the orders service: a customer's valid token renews that customer's session; a bad one is refused.
        const bearer = ctx.requestHeader.get("authorization")?.replace(/^Bearer /, "");
        const renewing = bearer === undefined ? undefined : tokens.get(bearer);
        if (bearer !== undefined && (refusingAll || renewing === undefined || renewing.expiresAtMs <= clock)) {
          throw new ConnectError("the token has expired: get a new one", Code.Unauthenticated);
        }
        issued++;
        const customerId = renewing?.customerId ?? `cus_${issued}`;
        const session = { token: `tok-${issued}`, customerId, expiresAtMs: clock + sessionMs };
        tokens.set(session.token, session);
        return { ...session, expireTime: timestampFromMs(session.expiresAtMs) };
      },
      getOrder(req, ctx) {
        const bearer = ctx.requestHeader.get("authorization")?.replace(/^Bearer /, "") ?? "";
        const session = tokens.get(bearer);
        if (refusingAll || session === undefined || session.expiresAtMs <= clock) {
          throw new ConnectError("the token has expired: get a new one", Code.Unauthenticated);
        }
        return create(OrderSchema, { id: req.id, customerId: session.customerId });
      },
    }),
  );
});
afterAll(() => server?.stop());
beforeEach(() => {
  clock = 1_000_000;
  refusingAll = false;
  server.calls.length = 0;
});

const start = () => startCustomerSession({ baseUrl: server.url, email: "ada@example.com", now: () => clock });

describe("customer sessions", () => {
  it("calls as the customer with the session's token", async () => {
    const session = await start();
    const order = await session.client.orders.getOrder({ id: "ord_1" });
    expect(order.customerId).toBe(session.customerId);
    expect(server.callsOf("GetOrder")[0]?.authorization).toBe(`Bearer ${session.token}`);
    expect(session.expiresAt.getTime()).toBe(clock + sessionMs);
  });

  it("renews the session for the same customer before it expires, without a refused call", async () => {
    const session = await start();
    const first = session.token;
    const customer = session.customerId;
    clock += sessionMs - 6 * 60_000;
    await session.client.orders.getOrder({ id: "ord_2" });
    expect(session.token).toBe(first);
    clock += 2 * 60_000;
    const order = await session.client.orders.getOrder({ id: "ord_3" });
    expect(session.token).not.toBe(first);
    expect(session.customerId).toBe(customer);
    expect(order.customerId).toBe(customer);
    expect(server.callsOf("StartCustomerSession")[1]?.authorization).toBe(`Bearer ${first}`);
    expect(server.callsOf("GetOrder")).toHaveLength(2);
    expect(session.expiresAt.getTime()).toBe(clock + sessionMs);
  });

  it("starts one new session for calls made together", async () => {
    const session = await start();
    clock += sessionMs - 60_000;
    await Promise.all([1, 2, 3].map((n) => session.client.orders.getOrder({ id: `ord_${n}` })));
    expect(server.callsOf("StartCustomerSession")).toHaveLength(2);
    expect(new Set(server.callsOf("GetOrder").map((call) => call.authorization))).toEqual(
      new Set([`Bearer ${session.token}`]),
    );
  });

  it("starts a new customer's session once when the server refuses the token, and sends the refused call again", async () => {
    const session = await start();
    const customer = session.customerId;
    tokens.clear();
    const order = await session.client.orders.getOrder({ id: "ord_4" });
    expect(order.customerId).toBe(session.customerId);
    expect(session.customerId).not.toBe(customer);
    expect(server.callsOf("GetOrder")).toHaveLength(2);
    // The renewal with the refused token is refused too; then a session without one.
    expect(server.callsOf("StartCustomerSession").map((call) => call.authorization ?? "")).toEqual([
      "",
      expect.stringMatching(/^Bearer /),
      "",
    ]);
  });

  it("passes the refusal on when the new session is refused too", async () => {
    const session = await start();
    refusingAll = true;
    const refused = await session.client.orders.getOrder({ id: "ord_5" }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
    expect(server.callsOf("GetOrder")).toHaveLength(2);
  });
});
