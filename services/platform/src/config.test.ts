import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { describe, expect, it } from "vitest";
import { generateApiKey } from "./auth/api-keys.js";
import { generateTokenSecret } from "./auth/token-key-set.js";
import { type ConfigError, loadConfig, platformConfigSpec } from "./config.js";

const tokenKeys = `k1:${generateTokenSecret()}`;

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(platformConfigSpec, env);
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
}

describe("credentials configuration", () => {
  it("requires SHOP_TOKEN_KEYS outside development mode, listed with the other problems", () => {
    const problems = problemsOf({ SHOP_PORT: "99999" });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^SHOP_PORT=99999/);
    expect(problems[1]).toMatch(/^SHOP_TOKEN_KEYS is required: .*openssl rand -base64 48.*SHOP_DEV_MODE=1/);
    expect(problemsOf({ SHOP_AUTH_SECRET: "whatever" })[0]).toContain("SHOP_AUTH_SECRET is no longer read");
    expect(problemsOf({ SHOP_TOKEN_KEYS: "k1:dev-only-secret-change-me" })[0]).toMatch(/too short/);
  });

  it("makes up a per-process key in development mode only", () => {
    const dev = loadConfig(platformConfigSpec, { SHOP_DEV_MODE: "1" });
    expect(dev.SHOP_TOKEN_KEYS.generated).toBe(true);
    expect(loadConfig(platformConfigSpec, { SHOP_DEV_MODE: "1" }).SHOP_TOKEN_KEYS.signing.kid).not.toBe(
      dev.SHOP_TOKEN_KEYS.signing.kid,
    );
    const given = loadConfig(platformConfigSpec, { SHOP_DEV_MODE: "1", SHOP_TOKEN_KEYS: tokenKeys });
    expect(given.SHOP_TOKEN_KEYS.generated).toBe(false);
    expect(problemsOf({ SHOP_DEV_MODE: "maybe" })).toEqual([
      "SHOP_DEV_MODE=maybe must be true or false",
      expect.stringMatching(/^SHOP_TOKEN_KEYS is required/),
    ]);
  });

  it("lists a malformed SHOP_STATIC_API_KEYS with the other problems, without quoting a key", () => {
    const { secret } = generateApiKey(Role.OPERATOR);
    const problems = problemsOf({
      SHOP_PORT: "-1",
      SHOP_TOKEN_KEYS: tokenKeys,
      SHOP_STATIC_API_KEYS: `operator:${secret},${secret},admin:${secret},seller:${secret.slice(0, -3)}`,
    });
    expect(problems).toHaveLength(2);
    expect(problems[1]).toMatch(/^SHOP_STATIC_API_KEYS must be role:sk_<id>_<secret>/);
    expect(problems[1]).toContain("entry 2 must start with a role");
    expect(problems[1]).toContain("entry 3 must start with a role");
    expect(problems[1]).toContain("entry 4 (seller) is not an API key");
    expect(problems.join("\n")).not.toContain(secret.slice(16));
  });

  it("parses SHOP_STATIC_API_KEYS into hashed records", () => {
    const operator = generateApiKey(Role.OPERATOR);
    const service = generateApiKey(Role.SERVICE);
    const config = loadConfig(platformConfigSpec, {
      SHOP_TOKEN_KEYS: tokenKeys,
      SHOP_STATIC_API_KEYS: ` operator:${operator.secret} , service:${service.secret},operator:${operator.secret}`,
    });
    expect(config.SHOP_STATIC_API_KEYS).toEqual([operator.record, service.record]);
  });

  it("takes a service key of role service, and refuses one registered with another role", () => {
    const service = generateApiKey(Role.SERVICE).secret;
    const operator = generateApiKey(Role.OPERATOR).secret;
    const base = { SHOP_TOKEN_KEYS: tokenKeys };
    const staticKeys = `service:${service},operator:${operator}`;
    const config = loadConfig(platformConfigSpec, {
      ...base,
      SHOP_SERVICE_KEY: service,
      SHOP_STATIC_API_KEYS: staticKeys,
    });
    expect(config.SHOP_SERVICE_KEY).toBe(service);
    expect(loadConfig(platformConfigSpec, base).SHOP_SERVICE_KEY).toBe("");
    expect(problemsOf({ ...base, SHOP_SERVICE_KEY: operator, SHOP_STATIC_API_KEYS: staticKeys })).toEqual([
      "SHOP_SERVICE_KEY is registered in SHOP_STATIC_API_KEYS with role operator: use a key of role service",
    ]);
    expect(problemsOf({ ...base, SHOP_SERVICE_KEY: "not-a-key" })).toEqual([
      "SHOP_SERVICE_KEY must be an API key (sk_<id>_<secret>) of role service",
    ]);
  });
});

describe("NATS configuration", () => {
  it("takes every node of a cluster in SHOP_NATS_URL and the streams' replicas", () => {
    const config = loadConfig(platformConfigSpec, {
      SHOP_TOKEN_KEYS: tokenKeys,
      SHOP_NATS_URL: "nats://n1:4222, nats://n2:4222,tls://n3:4222",
      SHOP_NATS_STREAM_REPLICAS: "3",
    });
    expect(config.SHOP_NATS_URL).toEqual(["nats://n1:4222", "nats://n2:4222", "tls://n3:4222"]);
    expect(config.SHOP_NATS_STREAM_REPLICAS).toBe(3);
    const defaults = loadConfig(platformConfigSpec, { SHOP_TOKEN_KEYS: tokenKeys });
    expect(defaults.SHOP_NATS_URL).toEqual(["nats://127.0.0.1:4222"]);
    expect(defaults.SHOP_NATS_STREAM_REPLICAS).toBe(1);
  });

  it("names the bad entry of the list and a replica count out of range", () => {
    expect(
      problemsOf({
        SHOP_TOKEN_KEYS: tokenKeys,
        SHOP_NATS_URL: "nats://n1:4222,http://n2:8222",
        SHOP_NATS_STREAM_REPLICAS: "7",
      }),
    ).toEqual([
      "SHOP_NATS_URL=http://n2:8222 must use nats: or tls:",
      "SHOP_NATS_STREAM_REPLICAS=7 must be an integer between 1 and 5",
    ]);
    expect(problemsOf({ SHOP_TOKEN_KEYS: tokenKeys, SHOP_NATS_URL: "nats://n1:4222,,nats://n2:4222" })).toEqual([
      "SHOP_NATS_URL=nats://n1:4222,,nats://n2:4222 has an empty entry: separate URLs by single commas",
    ]);
  });
});
