import { readFileSync } from "node:fs";
import { credsAuthenticator } from "@nats-io/transport-node";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { type ApiKeyRecord, parseApiKeyId, parseStaticApiKeys, roleName } from "./auth/api-keys.js";
import { generateDevTokenKeySet, parseTokenKeySet, type TokenKeySet } from "./auth/token-key-set.js";

/**
 * A reader of one environment variable: returns the typed value or throws a message naming what is wrong. `env` is
 * the whole environment, for the few readers whose rule depends on another variable (development mode).
 */
export type EnvReader<T> = (raw: string | undefined, name: string, env: Record<string, string | undefined>) => T;

export class ConfigError extends Error {
  override name = "ConfigError" as const;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof Error && err.name === "ConfigError";
}

/** A string; `fallback` undefined makes it required. */
export function str(fallback?: string): EnvReader<string> {
  return (raw, name) => {
    const value = raw ?? fallback;
    if (value === undefined) throw new Error(`${name} is required`);
    return value;
  };
}

/** An integer within [min, max]. */
export function int(fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): EnvReader<number> {
  return (raw, name) => {
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${name}=${raw} must be an integer between ${min} and ${max}`);
    }
    return value;
  };
}

export function bool(fallback: boolean): EnvReader<boolean> {
  return (raw, name) => {
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "yes"].includes(raw)) return true;
    if (["0", "false", "no"].includes(raw)) return false;
    throw new Error(`${name}=${raw} must be true or false`);
  };
}

/** A URL with one of the given protocols, e.g. `url("nats://127.0.0.1:4222", ["nats:"])`. */
export function url(fallback: string | undefined, protocols: string[]): EnvReader<string> {
  return (raw, name) => {
    const value = raw ?? fallback;
    if (value === undefined) throw new Error(`${name} is required`);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new Error(`${name}=${value} is not a URL`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new Error(`${name}=${value} must use ${protocols.join(" or ")}`);
    }
    return value;
  };
}

/**
 * A comma-separated list of URLs with one of the given protocols, e.g. the nodes of a NATS cluster; each entry is
 * checked as `url` checks one.
 */
export function urlList(fallback: string, protocols: string[]): EnvReader<string[]> {
  return (raw, name, env) => {
    const value = raw === undefined || raw.trim() === "" ? fallback : raw;
    const entries = value.split(",").map((entry) => entry.trim());
    if (entries.includes("")) throw new Error(`${name}=${value} has an empty entry: separate URLs by single commas`);
    return entries.map((entry) => url(undefined, protocols)(entry, name, env));
  };
}

/** One of a fixed set of words. */
export function oneOf<const T extends string>(fallback: T, allowed: readonly T[]): EnvReader<T> {
  return (raw, name) => {
    const value = raw ?? fallback;
    if (!allowed.includes(value as T)) throw new Error(`${name}=${value} must be one of ${allowed.join(", ")}`);
    return value as T;
  };
}

/**
 * Whether `value` may name a namespace: it prefixes NATS streams, subjects and consumers, the Postgres schema, Redis keys
 * and OpenSearch indices, so it keeps to what every one of them accepts (no dots or wildcards for NATS, lower case for
 * OpenSearch, room under Postgres's 63-byte identifiers for the suffixes tests add).
 */
export function isNamespace(value: string): boolean {
  return value.length <= 40 && /^[a-z][a-z0-9_]*$/.test(value);
}

/** SHOP_NAMESPACE: empty (a deployment of its own) or a namespace. */
function namespace(): EnvReader<string> {
  return (raw, name) => {
    const value = raw ?? "";
    if (value !== "" && !isNamespace(value)) {
      throw new Error(
        `${name}=${value} must be lower-case letters, digits and underscores, starting with a letter, at most 40 ` +
          "(it prefixes stream, schema, Redis key and index names), or empty",
      );
    }
    return value;
  };
}

/** Whether `SHOP_DEV_MODE` is on; a malformed value counts as off (and is listed by its own reader). */
function isDevMode(env: Record<string, string | undefined>): boolean {
  return ["1", "true", "yes"].includes(env.SHOP_DEV_MODE ?? "");
}

/**
 * The token keys (`kid:secret[,kid:secret]`, the first signs): required, because a built-in secret would let anyone
 * who read the source sign tokens. Only in development mode (`SHOP_DEV_MODE=1`) does a missing value become a random
 * key of this process, and the platform logs a warning.
 */
export function tokenKeys(): EnvReader<TokenKeySet> {
  return (raw, name, env) => {
    if (raw === undefined || raw.trim() === "") {
      if (isDevMode(env)) return generateDevTokenKeySet();
      const legacy = env.SHOP_AUTH_SECRET ? " (SHOP_AUTH_SECRET is no longer read)" : "";
      throw new Error(
        `${name} is required${legacy}: set it to <kid>:<secret>, e.g. ${name}="k1:$(openssl rand -base64 48)", ` +
          "or set SHOP_DEV_MODE=1 on a development machine",
      );
    }
    return parseTokenKeySet(raw, name);
  };
}

/** API keys known without the identity stream, `role:sk_…` pairs separated by commas; a malformed entry is listed. */
export function staticApiKeys(): EnvReader<ApiKeyRecord[]> {
  return (raw, name) => parseStaticApiKeys(raw ?? "", name);
}

/**
 * This service's own API key (`sk_…`, role service) for calling other services; empty when it calls none. A key that
 * SHOP_STATIC_API_KEYS registers with another role is refused: a service never calls as a seller or operator.
 */
export function serviceKey(): EnvReader<string> {
  return (raw, name, env) => {
    const value = raw?.trim() ?? "";
    if (value === "") return "";
    const id = parseApiKeyId(value);
    if (id === undefined) throw new Error(`${name} must be an API key (sk_<id>_<secret>) of role service`);
    let registered: ApiKeyRecord | undefined;
    try {
      registered = parseStaticApiKeys(env.SHOP_STATIC_API_KEYS ?? "").find((record) => record.id === id);
    } catch {
      // SHOP_STATIC_API_KEYS reports its own problem.
    }
    if (registered !== undefined && registered.role !== Role.SERVICE) {
      throw new Error(
        `${name} is registered in SHOP_STATIC_API_KEYS with role ${roleName(registered.role)}: use a key of role service`,
      );
    }
    return value;
  };
}

/**
 * NATS server URLs (`urlList`) that carry no credentials: a `user:password@` or `token@` in a URL would be logged with
 * it, so it is refused with a pointer to the credential variables, and the URL itself is not quoted.
 */
export function natsUrls(fallback: string): EnvReader<string[]> {
  return (raw, name, env) => {
    const entries = (raw ?? "").split(",");
    // Any @: a server URL has no other use for one, and a malformed URL with credentials would be quoted below.
    const withCredentials = entries.findIndex((entry) => entry.includes("@"));
    if (withCredentials !== -1) {
      throw new Error(
        `${name} entry ${withCredentials + 1} carries credentials before an @: URLs end up in logs, so take them out ` +
          `and set ${natsCredentialChoices} instead`,
      );
    }
    return urlList(fallback, ["nats:", "tls:"])(raw, name, env);
  };
}

/** The ways a service can authenticate to NATS, each by the variables that choose it; at most one may be set. */
const natsAuthMethods = [["SHOP_NATS_USER", "SHOP_NATS_PASSWORD"], ["SHOP_NATS_TOKEN"], ["SHOP_NATS_CREDS_FILE"]];
const natsCredentialChoices = "SHOP_NATS_USER and SHOP_NATS_PASSWORD, SHOP_NATS_TOKEN, or SHOP_NATS_CREDS_FILE";

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

/**
 * One NATS credential variable: empty when unset. The first variable of the last method set reports a second method,
 * so two methods make one problem, not one per variable.
 */
function natsCredential(pairedWith?: string): EnvReader<string> {
  return (raw, name, env) => {
    const chosen = natsAuthMethods.filter((variables) => variables.some((variable) => isSet(env[variable])));
    if (chosen.length > 1 && chosen.at(-1)?.[0] === name) {
      throw new Error(
        `${name} is set together with ${chosen
          .slice(0, -1)
          .flat()
          .filter((variable) => isSet(env[variable]))
          .join(", ")}: NATS takes one way to authenticate, so set only one of ${natsCredentialChoices}`,
      );
    }
    if (!isSet(raw)) return "";
    if (pairedWith !== undefined && !isSet(env[pairedWith])) {
      throw new Error(
        `${name} is set but ${pairedWith} is not: set both, or neither for a NATS without authentication`,
      );
    }
    return raw;
  };
}

/** A NATS user and its password (`--user`/`--pass` of nats-server); both or neither. */
export const natsUser = () => natsCredential("SHOP_NATS_PASSWORD");
export const natsPassword = () => natsCredential("SHOP_NATS_USER");
/** A NATS token (`--auth` of nats-server). */
export const natsToken = () => natsCredential();

/** A NATS credentials file (user JWT and nkey seed, as `nsc generate creds` writes it), read once at start. */
export interface NatsCredsFile {
  path: string;
  contents: Uint8Array;
}

/**
 * The path of a `.creds` file, read and parsed when the config loads, so a missing or malformed file stops the start
 * with the variable and path named, never its contents. Undefined when unset.
 */
export function natsCredsFile(): EnvReader<NatsCredsFile | undefined> {
  return (raw, name, env) => {
    natsCredential()(raw, name, env);
    if (!isSet(raw)) return undefined;
    const path = raw.trim();
    let contents: Uint8Array;
    try {
      contents = readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
      throw new Error(`${name}=${path} cannot be read (${code}): point it at the .creds file of this service's user`);
    }
    try {
      // The library's own parser: it finds the user JWT and derives the public key from the seed, signing nothing.
      credsAuthenticator(contents)();
    } catch {
      throw new Error(
        `${name}=${path} is not a NATS credentials file: it must hold a user JWT and its nkey seed, as nsc writes them`,
      );
    }
    return { path, contents };
  };
}

/**
 * Reads every variable of `spec` from `env` at once, so a bad start reports all problems together.
 * Keys of the spec are the variable names.
 */
export function loadConfig<S extends Record<string, EnvReader<unknown>>>(
  spec: S,
  env: Record<string, string | undefined> = process.env,
): { [K in keyof S]: ReturnType<S[K]> } {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(spec)) {
    try {
      config[name] = read(env[name], name, env);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as { [K in keyof S]: ReturnType<S[K]> };
}

/** The variables every service reads; services spread it into their own spec. */
export const platformConfigSpec = {
  SHOP_PORT: int(0, 0, 65535),
  SHOP_HOST: str("127.0.0.1"),
  SHOP_LOG_LEVEL: oneOf("info", ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const),
  /** NATS servers, comma-separated: every node of a cluster, so the connection fails over when one dies. */
  SHOP_NATS_URL: natsUrls("nats://127.0.0.1:4222"),
  /** How this service authenticates to NATS: at most one of user and password, token, or creds file; none by default. */
  SHOP_NATS_USER: natsUser(),
  SHOP_NATS_PASSWORD: natsPassword(),
  SHOP_NATS_TOKEN: natsToken(),
  SHOP_NATS_CREDS_FILE: natsCredsFile(),
  /**
   * Copies of each stream the services create (JetStream `num_replicas`); 3 on a 3-node cluster. Raises the count of an
   * existing stream but never lowers it, so a service started without it cannot shrink a cluster's streams.
   */
  SHOP_NATS_STREAM_REPLICAS: int(1, 1, 5),
  /** Prefix of every stream, subject and consumer name; isolates test runs and tenants on one NATS. */
  SHOP_NAMESPACE: namespace(),
  /** Development machine: a missing SHOP_TOKEN_KEYS becomes a random key of this process. Never in production. */
  SHOP_DEV_MODE: bool(false),
  /** Sign and check bearer tokens, `kid:secret[,kid:secret]`: the first signs, both verify. Shared by a deployment. */
  SHOP_TOKEN_KEYS: tokenKeys(),
  /** Keys known without the identity stream, as `role:key` pairs separated by commas (bootstrap operator key). */
  SHOP_STATIC_API_KEYS: staticApiKeys(),
  /** This service's own key (role service) for calls to other services; see `platform.serviceTransport`. */
  SHOP_SERVICE_KEY: serviceKey(),
  SHOP_SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 600_000),
  /** Largest request body a server accepts; beyond it the call is refused with ResourceExhausted, unread. */
  SHOP_MAX_REQUEST_BYTES: int(4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  /** Longest a call may run: a caller's longer or missing deadline is cut to this. */
  SHOP_MAX_TIMEOUT_MS: int(30_000, 100, 3_600_000),
};

/** For a process entry: a bad configuration prints every problem and exits 1, instead of a stack trace. */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`${service}: ${err.message}\n`);
    process.exit(1);
  }
}
