// A guest checks out through the gateway only, as a storefront does: the SDK's customer session, CreateOrder with the
// test card, and GetOrder with the order's access token. Whoever lacks the right to see an order gets through the
// gateway exactly the answer the orders service gives directly.
import { create } from "@bufbuild/protobuf";
import { type Client, Code } from "@connectrpc/connect";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { CreateOrderRequestSchema, type OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { createGateway, type Gateway, loadGatewayConfig } from "@shop/gateway";
import { type CheckoutHarness, startCheckoutHarness } from "@shop/orders/internal";
import { createPlatform } from "@shop/platform";
import { codeOf } from "@shop/platform/testing";
import { createShopClient, startCustomerSession } from "@shop/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: CheckoutHarness;
let gateway: Gateway;
let gatewayUrl: string;

beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addProduct("GW-MUG", 1250n);
  await h.setStock("GW-MUG", 5n);
  // Same namespace and token keys as the orders service, so the gateway accepts the customer tokens it issues.
  const config = loadGatewayConfig({ ...h.env.serviceEnv, SHOP_PORT: "0", SHOP_HOST: "127.0.0.1" });
  gateway = createGateway(await createPlatform("gateway", config), config, { upstreams: { orders: h.ordersUrl } });
  gatewayUrl = (await gateway.start()).url;
});
afterAll(async () => {
  await gateway?.stop();
  await h?.stop();
});

const checkout = (requestId: string) =>
  create(CreateOrderRequestSchema, {
    requestId,
    email: "guest@example.com",
    lines: [{ sku: "GW-MUG", quantity: 1n }],
    shippingAddress: { name: "Ada", line1: "1 Main St", city: "Paris", countryCode: "FR" },
    paymentMethod: "pm_card_visa",
  });

describe("guest checkout through the gateway", () => {
  it("starts a session, pays by card and reads the order back with its access token", async () => {
    const before = await h.payments();
    const guest = await startCustomerSession({ baseUrl: gatewayUrl, email: "guest@example.com" });
    expect(guest.customerId).toMatch(/^cus_/);
    expect(guest.expiresAt.getTime()).toBeGreaterThan(Date.now());

    const placed = await guest.client.orders.createOrder(checkout("gw-guest-1"));
    expect(placed).toMatchObject({ state: OrderState.PAID, customerId: guest.customerId });
    expect(placed.total).toMatchObject({ currencyCode: "EUR", amountMinor: 1250n });
    expect(placed.accessToken).not.toBe("");

    // A storefront that kept only the order id and its access token: any session reads it with the token.
    const later = await startCustomerSession({ baseUrl: gatewayUrl, email: "guest@example.com" });
    const read = await later.client.orders.getOrder({ id: placed.id, accessToken: placed.accessToken });
    expect(read).toMatchObject({ id: placed.id, state: OrderState.PAID, email: "guest@example.com" });
    expect((await guest.client.orders.getOrder({ id: placed.id })).state).toBe(OrderState.PAID);

    expect(await h.stock("GW-MUG")).toMatchObject({ onHand: 4n, reserved: 0n });
    const after = await h.payments();
    expect(after.charges.succeeded - before.charges.succeeded).toBe(1);
    expect(after.payment_intents.created - before.payment_intents.created).toBe(1);
  });

  it("answers those who may not see an order as the orders service does directly", async () => {
    const owner = await startCustomerSession({ baseUrl: gatewayUrl, email: "owner@example.com" });
    const mine = await owner.client.orders.createOrder(checkout("gw-owner-1"));
    const other = await owner.client.orders.createOrder(checkout("gw-owner-2"));
    const stranger = await startCustomerSession({ baseUrl: gatewayUrl, email: "stranger@example.com" });

    const viaGateway = (credential?: string) => createShopClient({ baseUrl: gatewayUrl, credential }).orders;
    const direct = (credential?: string) => h.client(credential);
    const attempts: Array<[string, string | undefined, { id: string; accessToken?: string }]> = [
      ["another customer without the token", stranger.token, { id: mine.id }],
      ["another customer with another order's token", stranger.token, { id: mine.id, accessToken: other.accessToken }],
      ["another customer with a forged token", stranger.token, { id: mine.id, accessToken: `${mine.accessToken}x` }],
      ["no credentials, with the token", undefined, { id: mine.id, accessToken: mine.accessToken }],
      ["no credentials, without the token", undefined, { id: mine.id }],
    ];
    const codes = async (client: (credential?: string) => Client<typeof OrderService>) => {
      const found: Record<string, Code | "ok"> = {};
      for (const [what, credential, request] of attempts) {
        found[what] = await codeOf(client(credential).getOrder(request));
      }
      return found;
    };
    const expected = {
      "another customer without the token": Code.NotFound,
      "another customer with another order's token": Code.NotFound,
      "another customer with a forged token": Code.NotFound,
      "no credentials, with the token": Code.Unauthenticated,
      "no credentials, without the token": Code.Unauthenticated,
    };
    expect(await codes(direct)).toEqual(expected);
    expect(await codes(viaGateway)).toEqual(expected);
  });
});
