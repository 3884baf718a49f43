/** A reader of one environment variable: returns the typed value or throws a message naming what is wrong. */
export type EnvReader<T> = (raw: string | undefined, name: string) => T;

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

/** One of a fixed set of words. */
export function oneOf<const T extends string>(fallback: T, allowed: readonly T[]): EnvReader<T> {
  return (raw, name) => {
    const value = raw ?? fallback;
    if (!allowed.includes(value as T)) throw new Error(`${name}=${value} must be one of ${allowed.join(", ")}`);
    return value as T;
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
      config[name] = read(env[name], name);
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
  SHOP_NATS_URL: url("nats://127.0.0.1:4222", ["nats:", "tls:"]),
  /** Prefix of every stream, subject and consumer name; isolates test runs and tenants on one NATS. */
  SHOP_NAMESPACE: str(""),
  /** Signs bearer tokens; every service of one deployment shares it. */
  SHOP_AUTH_SECRET: str("dev-only-secret-change-me"),
  /** Keys known without the identity stream, as `role:key` pairs separated by commas (bootstrap operator key). */
  SHOP_STATIC_API_KEYS: str(""),
  SHOP_SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 600_000),
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
