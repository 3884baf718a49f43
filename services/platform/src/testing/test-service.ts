import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ApiKeyRegistry, generateApiKey } from "../auth/api-keys.js";
import type { Tokens } from "../auth/tokens.js";
import { createLogger } from "../logger.js";
import { type RunningService, type ServeOptions, type ServiceDefinition, serve } from "../server/serve.js";
import { testTokens } from "./test-token-keys.js";

/** One API key per role, registered with the service under test. */
export interface TestKeys {
  seller: string;
  operator: string;
  customer: string;
  service: string;
}

export function createTestKeys(registry: ApiKeyRegistry): TestKeys {
  const make = (role: Role) => {
    const { secret, record } = generateApiKey(role);
    registry.put(record);
    return secret;
  };
  return {
    seller: make(Role.SELLER),
    operator: make(Role.OPERATOR),
    customer: make(Role.CUSTOMER),
    service: make(Role.SERVICE),
  };
}

/** Serves a service definition in-process on a random port, with a silent logger and one key per role. */
export async function startTestService(
  definition: ServiceDefinition,
  options: { apiKeys?: ApiKeyRegistry; limits?: Pick<ServeOptions, "maxRequestBytes" | "maxTimeoutMs"> } = {},
): Promise<RunningService & { keys: TestKeys; apiKeys: ApiKeyRegistry; tokens: Tokens }> {
  const apiKeys = options.apiKeys ?? new ApiKeyRegistry();
  const keys = createTestKeys(apiKeys);
  const running = await serve(definition, {
    port: 0,
    host: "127.0.0.1",
    logger: createLogger(definition.name, process.env.SHOP_LOG_LEVEL ?? "silent"),
    auth: { apiKeys, tokens: testTokens },
    shutdownTimeoutMs: 5_000,
    ...options.limits,
  });
  return { ...running, keys, apiKeys, tokens: testTokens };
}
