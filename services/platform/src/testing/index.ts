export { grpcJsClient } from "./grpc-js-client.js";
export type { TestServers } from "./server-locator.js";
export { locateTestServers } from "./server-locator.js";
export type { ProtocolName } from "./test-clients.js";
export { allProtocols, bearer, clientFor, transportFor } from "./test-clients.js";
export type { TestEnv } from "./test-env.js";
export { cleanupNamespace, createTestEnv } from "./test-env.js";
export type { TestKeys } from "./test-service.js";
export { createTestKeys, startTestService, testTokenSecret } from "./test-service.js";
