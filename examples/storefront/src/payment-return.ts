/** The order whose cart is being paid for through 3-D Secure; its status page empties the cart once it is paid. */
export const checkoutOrderKey = "shop.checkout-order";

/**
 * The emulator's 3-D Secure page for an order, with a `return_url` back to the order's status page here. The orders
 * service confirms the payment server-side, so the way back is given on the page's address.
 */
export function challengeAddress(nextActionUrl: string, orderId: string): string {
  const back = new URL(location.href);
  back.search = "";
  back.hash = `#/order/${encodeURIComponent(orderId)}`;
  const challenge = new URL(nextActionUrl);
  challenge.searchParams.set("return_url", back.toString());
  return challenge.toString();
}
