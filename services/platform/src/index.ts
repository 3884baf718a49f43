export { followApiKeys } from "./auth/api-key-follower.js";
export type { ApiKeyRecord } from "./auth/api-keys.js";
export { ApiKeyRegistry, generateApiKey, parseRole, parseStaticApiKeys, roleName, sha256Hex } from "./auth/api-keys.js";
export type { AuthOptions } from "./auth/authorize.js";
export { authorizeCall, credentialOf } from "./auth/authorize.js";
export type { Principal } from "./auth/principal.js";
export { anonymous, principalKey, requestIdKey } from "./auth/principal.js";
export { serviceCredential, serviceTransport } from "./auth/service-credential.js";
export type { TokenKey, TokenKeySet } from "./auth/token-key-set.js";
export { generateTokenSecret, maxTokenKeys, parseTokenKeySet } from "./auth/token-key-set.js";
export type { TokenCheck, TokenIssuer, TokenOptions, TokenRefusal, Tokens, TokenVerifier } from "./auth/tokens.js";
export { createTokens, tokenRoles } from "./auth/tokens.js";
export type { EnvReader, NatsCredsFile } from "./config.js";
export {
  bool,
  ConfigError,
  int,
  isConfigError,
  isNamespace,
  loadConfig,
  loadConfigOrExit,
  natsCredsFile,
  natsPassword,
  natsToken,
  natsUrls,
  natsUser,
  oneOf,
  platformConfigSpec,
  serviceKey,
  staticApiKeys,
  str,
  tokenKeys,
  url,
  urlList,
} from "./config.js";
export type { EventContract } from "./contract.js";
export { allEventContracts, allowedRoles, contractRegistry, eventContract } from "./contract.js";
export {
  AlreadyExistsError,
  ExhaustedError,
  InvalidInputError,
  isDomainError,
  NotFoundError,
  PreconditionError,
  StaleRevisionError,
  toConnectError,
  UnavailableError,
} from "./errors.js";
export type { EncodedEvent } from "./events/event-codec.js";
export { decodeEvent, encodeEvent, eventTypeHeader } from "./events/event-codec.js";
export type { Delivery, EventConsumer, EventConsumerOptions, EventHandler } from "./events/event-consumer.js";
export { on, startEventConsumer } from "./events/event-consumer.js";
export { metaOf, newEventMeta } from "./events/event-meta.js";
export type { EventPublisher, PublishOptions } from "./events/event-publisher.js";
export { createEventPublisher } from "./events/event-publisher.js";
export { eventSubject, eventSubjectFilter, namespacedStream, namespacedSubject } from "./events/event-subjects.js";
export type { ConsumerLag, OutboxBacklog } from "./events/pipeline-metrics.js";
export type { StreamTail, StreamTailOptions } from "./events/stream-tail.js";
export { tailStream } from "./events/stream-tail.js";
export type { StreamSpec } from "./events/streams.js";
export { contractStreams, deadLetterStream, ensureStreams } from "./events/streams.js";
export type { AppliedVersions } from "./events/version-gate.js";
export { isNewer, MemoryAppliedVersions } from "./events/version-gate.js";
export type { Logger } from "./logger.js";
export { createLogger } from "./logger.js";
export type { NatsServiceUser } from "./nats-authorization-config.js";
export { natsAuthorizationConfig, natsServiceUsers } from "./nats-authorization-config.js";
export type { NatsConnectionConfig } from "./nats-connection.js";
export { connectNats, natsConnectionOptions, natsInboxPrefix } from "./nats-connection.js";
export type { NatsPermissions, NatsServiceName } from "./nats-permissions.js";
export { isNatsServiceName, natsPasswordVariable, natsPermissions, natsServiceNames } from "./nats-permissions.js";
export type { OutboxBatch, OutboxRelay, OutboxRelayOptions, OutboxSource } from "./outbox/outbox-relay.js";
export { startOutboxRelay } from "./outbox/outbox-relay.js";
export type { Platform, PlatformConfig } from "./platform.js";
export { createPlatform } from "./platform.js";
export { createFailoverTransport } from "./replicas/failover-transport.js";
export type { ReplicaRotation, ReplicaRotationOptions } from "./replicas/replica-rotation.js";
export { createReplicaRotation, isConnectionRefused } from "./replicas/replica-rotation.js";
export { RetryInfoSchema, retryDelayMs, retryLaterError } from "./retry-info.js";
export { clampDeadline, requestedTimeoutMs, setDeadline } from "./server/deadline-header.js";
export type {
  AnyRequest,
  AnyResponse,
  DualProtocolServer,
  DualProtocolServerOptions,
} from "./server/dual-protocol-server.js";
export { startDualProtocolServer } from "./server/dual-protocol-server.js";
export { HealthService } from "./server/health-service.js";
export { createProbeHandler } from "./server/probes.js";
export { createSniffingListener } from "./server/protocol-sniffer.js";
export { drainRefusedBody, refusedBodyDrain } from "./server/refused-body.js";
export { defaultMaxRequestBytes } from "./server/rpc-handler.js";
export type { RunningService, ServeOptions, ServiceDefinition } from "./server/serve.js";
export { createMetricsRegistry, exitOnSignals, serve } from "./server/serve.js";
export type { ShopService } from "./shop-service.js";
export { createShopService } from "./shop-service.js";
