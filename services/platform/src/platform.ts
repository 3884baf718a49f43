import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { followApiKeys } from "./auth/api-key-follower.js";
import { ApiKeyRegistry, parseStaticApiKeys } from "./auth/api-keys.js";
import type { platformConfigSpec } from "./config.js";
import { createEventPublisher, type EventPublisher } from "./events/event-publisher.js";
import { contractStreams, ensureStreams, type StreamSpec } from "./events/streams.js";
import { createLogger, type Logger } from "./logger.js";
import { type RunningService, type ServiceDefinition, serve } from "./server/serve.js";

export type PlatformConfig = { [K in keyof typeof platformConfigSpec]: ReturnType<(typeof platformConfigSpec)[K]> };

/** The shared dependencies of a service process, built once in main.ts. */
export interface Platform {
  config: PlatformConfig;
  logger: Logger;
  nats: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  events: EventPublisher;
  apiKeys: ApiKeyRegistry;
  /** Serves the service; its shutdown also closes the platform, after the service's own hooks. */
  serve(definition: ServiceDefinition): Promise<RunningService>;
  /** Stops following API keys and drains the NATS connection. */
  close(): Promise<void>;
}

/**
 * Connects to NATS, provisions the contract's streams, and starts following API keys. `streams` overrides the
 * declarative list (tests); by default every stream of the contract is ensured.
 */
export async function createPlatform(
  service: string,
  config: PlatformConfig,
  options: { logger?: Logger; streams?: StreamSpec[] } = {},
): Promise<Platform> {
  const logger = options.logger ?? createLogger(service, config.SHOP_LOG_LEVEL);
  const nats = await connect({
    servers: config.SHOP_NATS_URL,
    name: `shop-${service}`,
    maxReconnectAttempts: -1,
    // Async traces build two Error objects (stack captured) per request, so per JetStream publish: a third of an outbox
    // relay's CPU. A timeout then names the operation without the stack of the call that started it.
    noAsyncTraces: true,
  });
  const jsm = await jetstreamManager(nats);
  const js = jetstream(nats);
  await ensureStreams(jsm, options.streams ?? contractStreams(config.SHOP_NAMESPACE));
  const apiKeys = new ApiKeyRegistry();
  for (const record of parseStaticApiKeys(config.SHOP_STATIC_API_KEYS)) apiKeys.put(record);
  const keyFollower = await followApiKeys({ js, jsm, registry: apiKeys, namespace: config.SHOP_NAMESPACE, logger });
  const events = createEventPublisher(js, config.SHOP_NAMESPACE);
  const close = async () => {
    await keyFollower.stop();
    await nats.drain();
  };

  return {
    config,
    logger,
    nats,
    js,
    jsm,
    events,
    apiKeys,
    close,
    serve: (definition) =>
      serve(
        {
          ...definition,
          onShutdown: [...(definition.onShutdown ?? []), () => keyFollower.stop(), () => nats.drain()],
        },
        {
          port: config.SHOP_PORT,
          host: config.SHOP_HOST,
          logger,
          apiKeys,
          tokenSecret: config.SHOP_AUTH_SECRET,
          shutdownTimeoutMs: config.SHOP_SHUTDOWN_TIMEOUT_MS,
        },
      ),
  };
}
