import {
  type Authenticator,
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "@nats-io/transport-node";
import { ConfigError, type platformConfigSpec } from "./config.js";

type Spec = typeof platformConfigSpec;
type NatsVariable =
  | "SHOP_NATS_URL"
  | "SHOP_NATS_USER"
  | "SHOP_NATS_PASSWORD"
  | "SHOP_NATS_TOKEN"
  | "SHOP_NATS_CREDS_FILE";

/** The part of the platform config that says where NATS is and how to authenticate to it. */
export type NatsConnectionConfig = { [K in NatsVariable]: ReturnType<Spec[K]> };

/** nats.js's authenticator for the configured credentials; undefined when none are set (a NATS without auth). */
function natsAuthenticator(config: NatsConnectionConfig): Authenticator | undefined {
  if (config.SHOP_NATS_USER !== "")
    return usernamePasswordAuthenticator(config.SHOP_NATS_USER, config.SHOP_NATS_PASSWORD);
  if (config.SHOP_NATS_TOKEN !== "") return tokenAuthenticator(config.SHOP_NATS_TOKEN);
  if (config.SHOP_NATS_CREDS_FILE !== undefined) return credsAuthenticator(config.SHOP_NATS_CREDS_FILE.contents);
  return undefined;
}

/**
 * The inbox prefix of a service's connections. Every reply to its requests arrives under it: JetStream API answers, the
 * messages its pull consumers fetch, its KV reads. So a NATS user may subscribe to its own replies only (see
 * nats-permissions.ts), never to those of another service, which carry that service's messages and KV values.
 */
export function natsInboxPrefix(service: string): string {
  return `_INBOX_${service}`;
}

/**
 * The options every connection of a service to the deployment's NATS uses: its servers, its credentials (through
 * nats.js's authenticators, so no secret is ever part of a URL) and how it keeps the connection. The one place they
 * are built; `createPlatform` connects with them.
 */
export function natsConnectionOptions(service: string, config: NatsConnectionConfig): NodeConnectionOptions {
  return {
    servers: config.SHOP_NATS_URL,
    name: `shop-${service}`,
    authenticator: natsAuthenticator(config),
    inboxPrefix: natsInboxPrefix(service),
    // A service outlives any one NATS node: it keeps trying every known server (the configured ones and those the
    // cluster announces) instead of giving up after ten attempts each.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    // A node that vanishes without closing its sockets (host lost, network cut) is noticed after three missed pings
    // (~45 s) instead of the default two minutes each.
    pingInterval: 15_000,
    maxPingOut: 3,
    // Async traces build two Error objects (stack captured) per request, so per JetStream publish: a third of an outbox
    // relay's CPU. A timeout then names the operation without the stack of the call that started it.
    noAsyncTraces: true,
  };
}

/** Whether NATS refused the connection's credentials (nats.js names these errors; checked by name, not class). */
export function isNatsAuthError(err: unknown): boolean {
  return err instanceof Error && ["AuthorizationError", "UserAuthenticationExpiredError"].includes(err.name);
}

/** What to set when NATS refuses this service's credentials, naming the variables and never their values. */
export function natsRefusal(config: NatsConnectionConfig, err: Error): string {
  const said = `NATS (${config.SHOP_NATS_URL.join(", ")}) refused the connection (${err.message})`;
  if (config.SHOP_NATS_USER !== "") {
    return `${said}: set SHOP_NATS_USER and SHOP_NATS_PASSWORD to a user and password the NATS servers accept (user ${JSON.stringify(config.SHOP_NATS_USER)} was refused)`;
  }
  if (config.SHOP_NATS_TOKEN !== "") return `${said}: set SHOP_NATS_TOKEN to the token the NATS servers accept`;
  if (config.SHOP_NATS_CREDS_FILE !== undefined) {
    return `${said}: SHOP_NATS_CREDS_FILE=${config.SHOP_NATS_CREDS_FILE.path} holds a user the NATS servers do not accept (unknown account, expired or revoked): point it at a current .creds file`;
  }
  return `${said}: these servers require authentication, so set SHOP_NATS_USER and SHOP_NATS_PASSWORD, SHOP_NATS_TOKEN, or SHOP_NATS_CREDS_FILE`;
}

/**
 * Connects as `natsConnectionOptions` says. Refused credentials become a ConfigError that names the variables to set,
 * since the server's own "Authorization Violation" does not say which setting is wrong.
 */
export async function connectNats(service: string, config: NatsConnectionConfig): Promise<NatsConnection> {
  try {
    return await connect(natsConnectionOptions(service, config));
  } catch (err) {
    if (isNatsAuthError(err)) throw new ConfigError([natsRefusal(config, err as Error)]);
    throw err;
  }
}
