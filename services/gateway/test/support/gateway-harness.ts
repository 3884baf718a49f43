import { createPlatform, type Platform } from "@shop/platform";
import type { TestEnv } from "@shop/platform/testing";
import { createGateway, type GatewayConfig, loadGatewayConfig, type RunningGateway } from "../../src/index.js";
import type { Upstreams } from "../../src/internal.js";

/** A gateway's platform on a test namespace: create it first, so upstream test services can share its API keys. */
export async function gatewayPlatform(
  env: TestEnv,
  variables: Record<string, string> = {},
): Promise<{ platform: Platform; config: GatewayConfig }> {
  const config = loadGatewayConfig({ ...env.serviceEnv, SHOP_PORT: "0", SHOP_HOST: "127.0.0.1", ...variables });
  return { platform: await createPlatform("gateway", config), config };
}

/** Starts a gateway through `createGateway`, as main.ts does, in front of `upstreams`. */
export async function startTestGateway(
  setup: { platform: Platform; config: GatewayConfig },
  upstreams: Upstreams,
): Promise<RunningGateway & { stop(): Promise<void> }> {
  const gateway = createGateway(setup.platform, setup.config, { upstreams });
  return { ...(await gateway.start()), stop: () => gateway.stop() };
}
