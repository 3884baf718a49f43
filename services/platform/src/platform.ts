import type { Interceptor, Transport } from "@connectrpc/connect";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { followApiKeys } from "./auth/api-key-follower.js";
import { ApiKeyRegistry } from "./auth/api-keys.js";
import type { AuthOptions } from "./auth/authorize.js";
import { serviceTransport } from "./auth/service-credential.js";
import { createTokens, type TokenIssuer } from "./auth/tokens.js";
import { ConfigError, type platformConfigSpec } from "./config.js";
import { createEventPublisher, type EventPublisher } from "./events/event-publisher.js";
import { contractStreams, ensureStreams, type StreamSpec } from "./events/streams.js";
import { createLogger, type Logger } from "./logger.js";
import { connectNats, isNatsAuthError, type NatsConnectionConfig, natsRefusal } from "./nats-connection.js";
import { updatableStreams } from "./nats-permissions.js";
import { createMetricsRegistry, type RunningService, type ServiceDefinition, serve } from "./server/serve.js";

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
  /** How this process authenticates callers (API keys and token keys); what `serve` and the gateway check with. */
  auth: AuthOptions;
  /** Mints customer and service tokens with the deployment's signing key (SHOP_TOKEN_KEYS). */
  tokens: TokenIssuer;
  /**
   * A transport to another service that authenticates as this one (SHOP_SERVICE_KEY, role service); throws a
   * ConfigError when the key is not set. Call it at start so a missing key stops the process early.
   */
  serviceTransport(baseUrl: string | readonly string[], interceptors?: Interceptor[]): Transport;
  /**
   * The process's metrics, served at /metrics once the service is served: give it to the relays and consumers the
   * service starts (their `metrics` option), so the event pipeline's backlog and lag show beside the RPC figures.
   */
  metrics: Registry;
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
  const nats = await connectNats(service, config);
  const jsm = await jetstreamManager(nats);
  const js = jetstream(nats);
  await ensureStreams(jsm, options.streams ?? contractStreams(config.SHOP_NAMESPACE), {
    replicas: config.SHOP_NATS_STREAM_REPLICAS,
    logger,
    updatable: updatableStreams(service, config.SHOP_NAMESPACE),
  });
  void logConnectionChanges(nats, config, logger);
  const apiKeys = new ApiKeyRegistry();
  for (const record of config.SHOP_STATIC_API_KEYS) apiKeys.put(record);
  const tokens = createTokens(config.SHOP_TOKEN_KEYS);
  const auth: AuthOptions = { apiKeys, tokens };
  if (config.SHOP_TOKEN_KEYS.generated) {
    logger.warn(
      { kid: config.SHOP_TOKEN_KEYS.signing.kid },
      "development mode: no SHOP_TOKEN_KEYS, so tokens are signed with a random key of this process only",
    );
  }
  const keyFollower = await followApiKeys({ js, jsm, registry: apiKeys, namespace: config.SHOP_NAMESPACE, logger });
  const events = createEventPublisher(js, config.SHOP_NAMESPACE);
  const metrics = createMetricsRegistry(service);
  // A connection nats.js closed itself (refused credentials on a reconnect) has nothing left to drain.
  const drainNats = () => (nats.isClosed() ? Promise.resolve() : nats.drain());
  const close = async () => {
    await keyFollower.stop();
    await drainNats();
  };

  return {
    config,
    logger,
    nats,
    js,
    jsm,
    events,
    apiKeys,
    auth,
    tokens,
    metrics,
    serviceTransport(baseUrl, interceptors) {
      if (config.SHOP_SERVICE_KEY === "") {
        throw new ConfigError([
          `SHOP_SERVICE_KEY is required for ${service} to call ${baseUrl}: an API key of role service, registered with the services it calls`,
        ]);
      }
      return serviceTransport(config.SHOP_SERVICE_KEY, baseUrl, interceptors);
    },
    close,
    serve: (definition) =>
      serve(
        {
          ...definition,
          // A connection nats.js closed for good (credentials refused twice) never comes back: not ready, so traffic
          // goes to replicas that still have their events, and the supervisor's readiness check shows why.
          isReady: async () => !nats.isClosed() && (definition.isReady ? await definition.isReady() : true),
          onShutdown: [...(definition.onShutdown ?? []), () => keyFollower.stop(), drainNats],
        },
        {
          port: config.SHOP_PORT,
          host: config.SHOP_HOST,
          logger,
          auth,
          shutdownTimeoutMs: config.SHOP_SHUTDOWN_TIMEOUT_MS,
          maxRequestBytes: config.SHOP_MAX_REQUEST_BYTES,
          maxTimeoutMs: config.SHOP_MAX_TIMEOUT_MS,
          metrics,
        },
      ),
  };
}

/**
 * Says when the connection to NATS is lost and to which server it came back, so a failover shows in the logs; and
 * when a server refuses the credentials on a reconnect (rotated on the servers, not here), which variables to set.
 * Servers are host:port and messages the server's own words: no credential is part of either.
 */
async function logConnectionChanges(nats: NatsConnection, config: NatsConnectionConfig, logger: Logger): Promise<void> {
  for await (const status of nats.status()) {
    if (status.type === "disconnect") logger.warn({ server: status.server }, "NATS connection lost; reconnecting");
    else if (status.type === "reconnect") logger.info({ server: status.server }, "NATS connection restored");
    else if (status.type === "error" && isNatsAuthError(status.error)) logger.error(natsRefusal(config, status.error));
  }
}
