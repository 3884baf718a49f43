import { createHmac } from "node:crypto";

/**
 * The `Stripe-Signature` header for a webhook body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed
 * with the endpoint's secret, which is what the SDK's `webhooks.constructEvent` checks.
 */
export function stripeSignatureHeader(body: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}
