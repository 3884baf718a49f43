import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { promisify } from "node:util";
import { type CheckoutHarness, startCheckoutHarness } from "@shop/orders/internal";
import { waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: CheckoutHarness;

beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addProduct("EXAMPLE-MUG", 1250n);
  await h.setStock("EXAMPLE-MUG", 5n);
});
afterAll(() => h?.stop());

describe("examples/guest-checkout.ts", () => {
  it("checks out as a guest through the SDK, reads the paid order back and gets its confirmation email", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "examples/guest-checkout.ts", "EXAMPLE-MUG"],
      { env: { ...process.env, SHOP_ENDPOINT: h.ordersUrl }, timeout: 60_000 },
    );
    const [, orderId] = /^order (ord_\w+): PAID 12\.50 EUR$/m.exec(stdout) ?? [];
    expect(orderId, stdout).toBeDefined();
    expect((await h.stock("EXAMPLE-MUG")).onHand).toBe(4n);
    await waitFor(
      async () =>
        (await readdir(h.mailOutboxDir)).some((f) => f.startsWith(`${orderId}-`) && f.includes("confirmation")),
      10_000,
      "the confirmation email",
    );
  });
});
