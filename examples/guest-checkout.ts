// A guest buys a product by card and reads the order back with its access token, as a storefront would.
// Run against a started platform: `npx tsx examples/guest-checkout.ts MUG-1` (the emails land in the mail outbox).
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { formatMoney, startCustomerSession } from "@shop/sdk";

const baseUrl = process.env.SHOP_ENDPOINT ?? "http://127.0.0.1:8080";
const { client } = await startCustomerSession({ baseUrl, email: "ada@example.com" });
const placed = await client.orders.createOrder({
  requestId: `guest-checkout-${Date.now()}`, // retrying with the same id never places (or charges) a second order
  email: "ada@example.com",
  lines: [{ sku: process.argv[2] ?? "MUG-1", quantity: 1n }],
  shippingAddress: { name: "Ada Lovelace", line1: "1 Main St", city: "London", postalCode: "N1", countryCode: "GB" },
  paymentMethod: "pm_card_visa", // the emulator's test card that is always charged
});
const order = await client.orders.getOrder({ id: placed.id, accessToken: placed.accessToken });
console.log(`order ${order.id}: ${OrderState[order.state]} ${formatMoney(order.total)} ${order.cancelReason}`.trim());
