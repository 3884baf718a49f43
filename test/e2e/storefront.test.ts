// The example storefront (examples/storefront) in headless Chromium against the whole platform as `npm start` runs it:
// search → product → cart → pay (a plain card, and a 3-D Secure card through the emulator's challenge page) → the
// order is paid and the stock went down; a declined card, an item sold out between cart and checkout and a failed
// 3-D Secure check. Once over Connect and once over gRPC-web, through the gateway's CORS only. Chromium is Debian's
// package (`apt-get install chromium`), driven by playwright-core; no browser is ever downloaded.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "@connectrpc/connect";
import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { clientFor, createTestEnv, freePort, type TestEnv, waitFor } from "@shop/platform/testing";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { build, type PreviewServer, preview } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StackProcess, spawnStack } from "../support/stack-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const storefrontDir = join(root, "examples", "storefront");
const chromiumPath = "/usr/bin/chromium";
const haveChromium = existsSync(chromiumPath);
const requireAll = process.env.SHOP_REQUIRE_ALL === "1";
// Committed screenshots are rewritten only on request, so a test run never dirties the tree.
const updateScreenshots = process.env.SHOP_UPDATE_SCREENSHOTS === "1";

type Protocol = "connect" | "grpc-web";
/** What each protocol's requests carry: the SDK speaks binary Connect by default. */
const contentTypeOf: Record<Protocol, string> = {
  connect: "application/proto",
  "grpc-web": "application/grpc-web+proto",
};

let env: TestEnv;
let dataDir: string;
let screenshotDir: string;
let stack: StackProcess | undefined;
let storefront: PreviewServer | undefined;
let browser: Browser | undefined;
let gatewayUrl: string;
let emulatorUrl: string;
let storefrontUrl: string;
let stripeKey: string;
// The test's own calls (seeding, stock, a second customer) go through the gateway with the platform's test clients.
let operator: Client<typeof ProductService>;

/** Totals of the Stripe emulator, to check that nothing was charged. */
async function payments(): Promise<{ payment_intents: { created: number }; charges: { succeeded: number } }> {
  const response = await fetch(`${emulatorUrl}/_emulator/stats`, { headers: { Authorization: `Bearer ${stripeKey}` } });
  return (await response.json()) as { payment_intents: { created: number }; charges: { succeeded: number } };
}

/** A product the run sells, with the stock the story starts from. */
interface Seeded {
  id: string;
  sku: string;
  title: string;
}

/** Creates an active product with stock through the gateway as the operator, as a seller would with the CLI. */
async function seedProduct(
  title: string,
  sku: string,
  priceMinor: bigint,
  stock: bigint,
  tags: string[],
  collectionIds: string[],
): Promise<Seeded> {
  const product = await operator.createProduct({
    product: {
      title,
      description: `${title}, thrown and glazed by hand.`,
      price: { currencyCode: "EUR", amountMinor: priceMinor },
      variants: [{ sku, title: "Default" }],
      tags,
      collectionIds,
    },
    initialStock: [{ sku, quantity: stock }],
  });
  return { id: product.id, sku, title };
}

/** What customers see of a product's stock (search's read model, fed by the inventory's events). */
const available = async (id: string) => (await clientFor(SearchService, gatewayUrl).getProduct({ id })).available;

async function availableBecomes(id: string, expected: bigint): Promise<void> {
  await waitFor(async () => (await available(id)) === expected, 15_000, `${id} showing ${expected} in stock`);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

if (!haveChromium && requireAll) {
  describe("the storefront in Chromium", () => {
    it("needs Debian's Chromium", () => {
      throw new Error(
        `${chromiumPath} is missing: install it with \`apt-get install chromium\` (never a downloaded browser)`,
      );
    });
  });
}

describe.skipIf(!haveChromium)("the storefront in Chromium", () => {
  beforeAll(async () => {
    env = await createTestEnv();
    dataDir = await mkdtemp(join(tmpdir(), "shop-storefront-"));
    screenshotDir = updateScreenshots ? join(storefrontDir, "screenshots") : join(dataDir, "screenshots");
    await mkdir(screenshotDir, { recursive: true });
    const ports = {
      PRODUCTS: await freePort(),
      INVENTORY: await freePort(),
      SEARCH: await freePort(),
      STRIPE_EMULATOR: await freePort(),
      ORDERS: await freePort(),
      GATEWAY: await freePort(),
    };
    gatewayUrl = `http://127.0.0.1:${ports.GATEWAY}`;
    emulatorUrl = `http://127.0.0.1:${ports.STRIPE_EMULATOR}`;

    // The storefront as it ships: built by Vite (on the SDK's source) and served by `vite preview`.
    const outDir = join(dataDir, "storefront-dist");
    const configFile = join(storefrontDir, "vite.config.ts");
    await build({ configFile, root: storefrontDir, logLevel: "warn", build: { outDir, emptyOutDir: true } });
    storefront = await preview({
      configFile,
      root: storefrontDir,
      logLevel: "warn",
      build: { outDir },
      preview: { host: "127.0.0.1", port: await freePort(), strictPort: true, open: false },
    });
    storefrontUrl = (storefront.resolvedUrls?.local[0] ?? "").replace(/\/$/, "");
    expect(storefrontUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // `npm start` on free ports and the test's namespace.
    stack = spawnStack({ serviceEnv: env.serviceEnv, dataDir, ports, env: { SHOP_CORS_ORIGINS: storefrontUrl } });
    await stack.ready;
    stripeKey = (await readFile(join(dataDir, "stripe-secret-key"), "utf8")).trim();
    operator = clientFor(ProductService, gatewayUrl, {
      credential: (await readFile(join(dataDir, "operator-key"), "utf8")).trim(),
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking"],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await storefront?.close().catch(() => undefined);
    await stack?.stop();
    await env?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  describe.each<[Protocol, string]>([
    ["connect", "Stoneware"],
    ["grpc-web", "Porcelain"],
  ])("over %s", (protocol, material) => {
    let context: BrowserContext;
    let page: Page;
    const rpcContentTypes = new Set<string>();
    const corsOrigins = new Set<string>();
    const origins = new Set<string>();
    let mug: Seeded;
    let bowl: Seeded;
    let vase: Seeded;
    let plate: Seeded;
    const shots = protocol === "connect";

    beforeAll(async () => {
      const tag = material.toLowerCase();
      const { id: collectionId } = await operator.createCollection({
        collection: { title: `${material} collection`, handle: `${tag}-collection` },
      });
      mug = await seedProduct(
        `Speckled ${material} Mug`,
        `${tag.toUpperCase()}-MUG`,
        1250n,
        10n,
        ["kitchen", tag],
        [collectionId],
      );
      bowl = await seedProduct(
        `${material} Serving Bowl`,
        `${tag.toUpperCase()}-BOWL`,
        2400n,
        6n,
        ["kitchen", tag],
        [collectionId],
      );
      vase = await seedProduct(`${material} Bud Vase`, `${tag.toUpperCase()}-VASE`, 4500n, 1n, ["decor", tag], []);
      plate = await seedProduct(`${material} Side Plate`, `${tag.toUpperCase()}-PLATE`, 900n, 3n, ["kitchen", tag], []);
      for (const [product, stock] of [
        [mug, 10n],
        [bowl, 6n],
        [vase, 1n],
        [plate, 3n],
      ] as const) {
        await availableBecomes(product.id, stock);
      }

      context = await (browser as Browser).newContext({ viewport: { width: 1200, height: 860 } });
      page = await context.newPage();
      page.on("request", (request) => {
        const url = new URL(request.url());
        origins.add(url.origin);
        if (url.origin === gatewayUrl && request.method() === "POST") {
          rpcContentTypes.add(request.headers()["content-type"] ?? "");
        }
      });
      page.on("response", (response) => {
        if (new URL(response.url()).origin === gatewayUrl && response.request().method() === "POST") {
          corsOrigins.add(response.headers()["access-control-allow-origin"] ?? "");
        }
      });
      await page.goto(`${storefrontUrl}/?gateway=${encodeURIComponent(gatewayUrl)}&protocol=${protocol}#/`);
      await page.waitForSelector("#app[aria-busy=false]");
    }, 60_000);

    afterAll(async () => {
      await context?.close().catch(() => undefined);
    });

    /**
     * Waits until the page the address names has rendered. The hash changes at once but its hashchange event runs
     * later, so until the render records the hash it answered, the page may still be settled on the previous one.
     */
    const settled = () =>
      page.waitForFunction(() => {
        const app = document.getElementById("app");
        return app?.getAttribute("aria-busy") === "false" && app.dataset.renderedHash === location.hash;
      });
    const go = async (hash: string) => {
      await page.evaluate((h) => {
        location.hash = h;
      }, hash);
      await page.waitForFunction((h) => location.hash === h, hash);
      await settled();
    };
    const cartCount = async () => Number(await page.textContent("#cart-count"));

    async function addToCart(product: Seeded, quantity: number): Promise<void> {
      await go(`#/product/${product.id}`);
      await page.fill("input[name=quantity]", String(quantity));
      await page.click("text=Add to cart");
      await page.waitForSelector(".notice-success");
    }

    async function checkout(card: string): Promise<void> {
      await go("#/checkout");
      await page.fill("input[name=email]", `ada-${protocol}@example.com`);
      await page.fill("input[name=name]", "Ada Lovelace");
      await page.fill("input[name=line1]", "12 St James's Square");
      await page.fill("input[name=city]", "London");
      await page.fill("input[name=postalCode]", "SW1Y 4JH");
      await page.selectOption("select[name=countryCode]", "GB");
      await page.selectOption("select[name=paymentMethod]", card);
    }

    it("searches with text, sort, filters and facets, and shows a product's remaining stock", async () => {
      await page.fill("#quick-search input[name=q]", material.toLowerCase());
      await page.press("#quick-search input[name=q]", "Enter");
      // The search renders on hashchange, which comes after the key press: until then the page still shows (and is
      // settled on) whatever it showed before.
      await page.waitForFunction((q) => location.hash.includes(`q=${q}`), material.toLowerCase());
      await settled();
      const titles = () => page.locator(".product-card h3").allTextContents();
      expect(new Set(await titles())).toEqual(new Set([mug.title, bowl.title, vase.title, plate.title]));

      await page.selectOption("select[name=sort]", "price-desc");
      await page.waitForFunction(() => location.hash.includes("sort=price-desc"));
      await settled();
      expect(await titles()).toEqual([vase.title, bowl.title, mug.title, plate.title]);

      // The tag facet counts what the text matches and narrows it.
      const decor = page.locator('[data-facet=tags] input[data-value="decor"]');
      expect(await page.locator('[data-facet=tags] label:has(input[data-value="decor"]) .count').textContent()).toBe(
        "(1)",
      );
      await decor.check();
      await page.waitForFunction(() => location.hash.includes("tag=decor"));
      await settled();
      expect(await titles()).toEqual([vase.title]);
      await page.locator('[data-facet=tags] input[data-value="decor"]').uncheck();
      await page.waitForFunction(() => !location.hash.includes("tag=decor"));
      await settled();

      // A price range, in the shop's currency.
      await page.fill("input[name=min]", "10");
      await page.fill("input[name=max]", "30");
      await page.click(".filters button[type=submit]");
      await page.waitForFunction(() => location.hash.includes("max=30"));
      await settled();
      expect(await titles()).toEqual([bowl.title, mug.title]);
      expect(await page.locator("[data-facet=collections] legend").textContent()).toBe("Collections");
      if (shots) await screenshot(page, "search");

      await page.click(`.product-card[data-product-id="${mug.id}"] a`);
      await page.waitForSelector(`.product-page[data-product-id="${mug.id}"]`);
      await settled();
      expect(await page.textContent("h1")).toBe(mug.title);
      expect(await page.textContent("#stock")).toBe("10 left");
      expect(await page.textContent(".product-page .price")).toBe("12.50 EUR");
      if (shots) await screenshot(page, "product");
    });

    it("pays with a plain card: the order shows paid and the product's stock went down", async () => {
      await addToCart(mug, 2);
      expect(await cartCount()).toBe(2);
      await go("#/cart");
      expect(await page.textContent(".subtotal strong")).toBe("25.00 EUR");
      if (shots) await screenshot(page, "cart");
      await checkout("pm_card_visa");
      if (shots) await screenshot(page, "checkout");
      await page.click("#pay");
      await page.waitForSelector(".order-page[data-state=PAID]", { timeout: 15_000 });
      expect(await page.textContent(".order-total")).toBe("25.00 EUR");
      expect(await cartCount()).toBe(0);
      if (shots) await screenshot(page, "order-paid");

      await availableBecomes(mug.id, 8n);
      await go(`#/product/${mug.id}`);
      expect(await page.textContent("#stock")).toBe("8 left");
    });

    it("pays with a 3-D Secure card: the emulator's challenge page, back to the order, which becomes paid", async () => {
      await addToCart(bowl, 1);
      await checkout("pm_card_threeDSecure2Required");
      await page.click("#pay");
      await page.waitForURL(`${emulatorUrl}/3d_secure/**`);
      expect(await page.textContent("h1")).toBe("Confirm this payment");
      expect(await page.textContent("body")).toContain("€24.00");
      if (shots) await screenshot(page, "3d-secure");
      await page.click("#complete");
      await page.waitForURL(`${storefrontUrl}/**#/order/*`);
      await page.waitForSelector(".order-page[data-state=PAID]", { timeout: 15_000 });
      expect(await cartCount()).toBe(0);
      await availableBecomes(bowl.id, 5n);
    });

    it("shows why a declined card was refused, keeps the cart and charges nothing", async () => {
      const before = await payments();
      await addToCart(plate, 1);
      await checkout("pm_card_chargeDeclined");
      await page.click("#pay");
      const message = page.locator("#checkout-message .notice-error");
      await message.waitFor();
      expect(await message.textContent()).toContain("The card was declined.");
      expect(await message.textContent()).toContain("Your cart is kept");
      if (shots) await screenshot(page, "declined");
      expect(await cartCount()).toBe(1);
      expect(await page.isEnabled("#pay")).toBe(true);
      expect((await payments()).charges.succeeded).toBe(before.charges.succeeded);
      // The hold was released: the plate is still there for the next try.
      await availableBecomes(plate.id, 3n);
    });

    it("refuses a failed 3-D Secure check: the order ends cancelled and the cart is kept", async () => {
      await checkout("pm_card_threeDSecure2Required");
      await page.click("#pay");
      await page.waitForURL(`${emulatorUrl}/3d_secure/**`);
      await page.click("#fail");
      await page.waitForURL(`${storefrontUrl}/**#/order/*`);
      await page.waitForSelector(".order-page[data-state=CANCELLED]", { timeout: 15_000 });
      expect(await page.textContent(".order-page .notice-error")).toContain("You were not charged.");
      expect(await cartCount()).toBe(1);
      await availableBecomes(plate.id, 3n);
      // Empty the cart for the next story, as a shopper would.
      await go("#/cart");
      await page.click(`tr[data-sku="${plate.sku}"] button:has-text("Remove")`);
      await page.waitForFunction(() => document.getElementById("cart-count")?.textContent === "0");
    });

    it("refuses an item sold out between cart and checkout with a clear message, charging nothing", async () => {
      await addToCart(vase, 1);
      // Someone else buys the last one meanwhile.
      const { token } = await clientFor(OrderService, gatewayUrl).startCustomerSession({
        email: "quicker@example.com",
      });
      const theirs = await clientFor(OrderService, gatewayUrl, { credential: token }).createOrder({
        requestId: `storefront-e2e-${protocol}-vase`,
        email: "quicker@example.com",
        lines: [{ sku: vase.sku, quantity: 1n }],
        shippingAddress: { name: "Grace Hopper", line1: "1 Navy Way", city: "Arlington", countryCode: "US" },
        paymentMethod: "pm_card_visa",
      });
      expect(theirs.state).toBe(OrderState.PAID);
      await availableBecomes(vase.id, 0n);

      const before = await payments();
      await checkout("pm_card_visa");
      await page.click("#pay");
      const message = page.locator("#checkout-message .notice-error");
      await message.waitFor();
      const text = await message.textContent();
      expect(text).toContain("Sold out while it was in your cart.");
      expect(text).toContain(`${vase.title} (${vase.sku}) is out of stock.`);
      expect(text).toContain("Nothing was charged.");
      await page.waitForSelector(`tr[data-sku="${vase.sku}"].flagged`);
      expect(await page.textContent(`tr[data-sku="${vase.sku}"] .line-flag`)).toBe("Sold out");
      if (shots) await screenshot(page, "sold-out");
      expect(await cartCount()).toBe(1);
      const after = await payments();
      expect(after.payment_intents.created).toBe(before.payment_intents.created);
      expect(after.charges.succeeded).toBe(before.charges.succeeded);
    });

    it(`spoke only ${protocol} to the gateway, through CORS for the storefront's origin`, () => {
      expect([...rpcContentTypes]).toEqual([contentTypeOf[protocol]]);
      expect([...corsOrigins]).toEqual([storefrontUrl]);
      // The browser reached the storefront, the gateway and the card issuer's page (the emulator), nothing else.
      expect([...origins].sort()).toEqual([emulatorUrl, gatewayUrl, storefrontUrl].sort());
    });
  });
});
