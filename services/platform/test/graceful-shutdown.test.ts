import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../src/index.js";
import { clientFor } from "../src/testing/index.js";

const fixture = fileURLToPath(new URL("./fixtures/slow-server.ts", import.meta.url));
const key = `sk_slowtest0000_${"a".repeat(43)}`;
let child: ChildProcess | undefined;

async function startSlowServer(slowMs: number): Promise<string> {
  child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env: { ...process.env, SLOW_MS: String(slowMs), KEY_SHA256: sha256Hex(key) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [url] = (await once(lines, "line")) as [string];
  return url;
}

afterEach(() => {
  child?.kill("SIGKILL");
});

describe("graceful shutdown", () => {
  for (const protocol of ["connect-binary", "grpc"] as const) {
    it(`lets a slow ${protocol} request finish after SIGTERM, then exits 0`, async () => {
      const url = await startSlowServer(800);
      const client = clientFor(ProductService, url, { protocol, credential: key });
      await client.getProduct({ id: "warm-up" }, { timeoutMs: 5_000 }).catch(() => undefined);
      const slow = client.getProduct({ id: "slow" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = once(child as ChildProcess, "exit");
      child?.kill("SIGTERM");
      const product = await slow;
      expect(product.id).toBe("slow");
      const [code] = (await exited) as [number];
      expect(code).toBe(0);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    });
  }
});
