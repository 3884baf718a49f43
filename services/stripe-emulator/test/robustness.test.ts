import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isConfigError } from "@shop/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStripeEmulatorConfig } from "../src/index.js";
import { type EmulatorHarness, startEmulator, testSecretKey } from "./support/emulator-harness.js";

let emu: EmulatorHarness;

beforeAll(async () => {
  emu = await startEmulator({ SHOP_STRIPE_EMULATOR_MAX_REQUEST_BYTES: "4096" });
});

afterAll(async () => {
  await emu?.stop();
});

const post = (path: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
  fetch(`${emu.url}${path}`, {
    method: "POST",
    body,
    headers: {
      Authorization: `Bearer ${testSecretKey}`,
      "Content-Type": "application/x-www-form-urlencoded",
      ...headers,
    },
  });

async function stripeError(response: Response): Promise<{ type: string; code?: string; message: string }> {
  expect(response.headers.get("content-type")).toContain("application/json");
  return ((await response.json()) as { error: { type: string; code?: string; message: string } }).error;
}

describe("hostile or broken requests", () => {
  it("answers every API call with a Request-Id like Stripe's", async () => {
    const response = await post("/v1/payment_intents", "amount=1000&currency=eur");
    expect(response.status).toBe(200);
    expect(response.headers.get("request-id")).toMatch(/^req_[A-Za-z0-9]{14}$/);
  });

  it("refuses a body over the size cap with 413, and keeps serving", async () => {
    const response = await post("/v1/payment_intents", `amount=1000&currency=eur&description=${"x".repeat(8192)}`);
    expect(response.status).toBe(413);
    expect((await stripeError(response)).type).toBe("invalid_request_error");
    expect((await post("/v1/payment_intents", "amount=1000&currency=eur")).status).toBe(200);
  });

  it("refuses malformed bodies with a 400 Stripe error, never a crash", async () => {
    const bodies = [
      "amount=%E0%A4%A&currency=eur",
      "amount[=1",
      "metadata=x&metadata[a]=b",
      "metadata[a][b][c][d][e][f][g][h][i][j]=1",
      "amount=1000&currency=eur&expand[0]=nothing",
      "amount=1000&currency=eur&metadata[]=x",
    ];
    for (const body of bodies) {
      const response = await post("/v1/payment_intents", body);
      expect(response.status, body).toBe(400);
      expect((await stripeError(response)).type, body).toBe("invalid_request_error");
    }
    const binary = await post("/v1/payment_intents", new Uint8Array([0xff, 0xfe, 0x00, 0x26, 0x3d, 0x25]));
    expect(binary.status).toBe(400);
    const json = await post("/v1/payment_intents", '{"amount":1000}', { "Content-Type": "application/json" });
    expect(json.status).toBe(400);
    expect((await stripeError(json)).message).toContain("form-encoded");
  });

  it("answers a URL outside the emulated subset with 404", async () => {
    const response = await fetch(`${emu.url}/v1/customers`, { headers: { Authorization: `Bearer ${testSecretKey}` } });
    expect(response.status).toBe(404);
    expect((await stripeError(response)).type).toBe("invalid_request_error");
  });

  it("guards the test routes with the secret key too", async () => {
    expect((await fetch(`${emu.url}/_emulator/stats`)).status).toBe(401);
    expect((await emu.stats()).payment_intents.created).toBeGreaterThan(0);
  });

  it("lists intents by metadata for tests", async () => {
    await post("/v1/payment_intents", "amount=1000&currency=eur&metadata[order_id]=o-listed");
    const listed = await emu.emulator<{ data: { metadata: Record<string, string> }[] }>(
      "/_emulator/payment_intents?metadata[order_id]=o-listed",
    );
    expect(listed.data).toHaveLength(1);
  });
});

describe("configuration", () => {
  it("has no default secret key and lists every problem at once", () => {
    let problems: string[] = [];
    try {
      loadStripeEmulatorConfig({ SHOP_STRIPE_EMULATOR_PORT: "99999", SHOP_STRIPE_EMULATOR_WEBHOOKS: "http://x" });
    } catch (err) {
      if (!isConfigError(err)) throw err;
      problems = err.problems;
    }
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toContain("SHOP_STRIPE_EMULATOR_SECRET_KEY is required");
    expect(() => loadStripeEmulatorConfig({ SHOP_STRIPE_EMULATOR_SECRET_KEY: "sk_live_abcdefghijkl" })).toThrow(
      /never a live key/,
    );
  });

  it("reads webhook endpoints as <secret>@<url>", () => {
    const config = loadStripeEmulatorConfig({
      SHOP_STRIPE_EMULATOR_SECRET_KEY: testSecretKey,
      SHOP_STRIPE_EMULATOR_WEBHOOKS:
        "whsec_abcdefgh12@http://127.0.0.1:8084/webhooks/stripe, whsec_zyxwvuts98@https://h.test/x",
    });
    expect(config.SHOP_STRIPE_EMULATOR_WEBHOOKS).toEqual([
      { secret: "whsec_abcdefgh12", url: "http://127.0.0.1:8084/webhooks/stripe" },
      { secret: "whsec_zyxwvuts98", url: "https://h.test/x" },
    ]);
  });

  it("refuses to start the process without a secret key, exit 1 with the problem listed", () => {
    const main = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", SHOP_STRIPE_EMULATOR_PORT: "0" };
    const run = spawnSync(process.execPath, ["--import", "tsx", main], { env, encoding: "utf8", timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("SHOP_STRIPE_EMULATOR_SECRET_KEY is required");
  });
});
