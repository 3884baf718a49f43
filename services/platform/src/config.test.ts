import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { afterAll, describe, expect, it } from "vitest";
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

describe("namespace", () => {
  it("takes none or one that every server can carry, and names SHOP_NAMESPACE otherwise", () => {
    expect(loadConfig(platformConfigSpec, { SHOP_TOKEN_KEYS: tokenKeys }).SHOP_NAMESPACE).toBe("");
    const given = loadConfig(platformConfigSpec, { SHOP_TOKEN_KEYS: tokenKeys, SHOP_NAMESPACE: "t1a2b_eu" });
    expect(given.SHOP_NAMESPACE).toBe("t1a2b_eu");
    // A dot or a wildcard would change the meaning of NATS subjects; capitals are refused by OpenSearch index names.
    for (const bad of ["shop.eu", "shop>", "shop*", "Shop", "1shop", "shop-eu", "s".repeat(41)]) {
      const problems = problemsOf({ SHOP_TOKEN_KEYS: tokenKeys, SHOP_NAMESPACE: bad });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^SHOP_NAMESPACE=${bad.replace(/[.*>]/g, "\\$&")} must be lower-case`));
    }
  });
});

describe("NATS credentials", () => {
  const base = { SHOP_TOKEN_KEYS: tokenKeys };
  const password = randomBytes(24).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "shop-nats-creds-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A .creds file as nsc writes it: the JWT is not checked until a server sees it, the seed is parsed at start. */
  function credsFile(seed = new TextDecoder().decode(nkeys.createUser().getSeed())): string {
    const path = join(dir, `${randomBytes(4).toString("hex")}.creds`);
    writeFileSync(
      path,
      `-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QifQ.e30.c2ln\n------END NATS USER JWT------\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    );
    return path;
  }

  it("uses none by default, as the machine's NATS and CI do", () => {
    const config = loadConfig(platformConfigSpec, base);
    expect([config.SHOP_NATS_USER, config.SHOP_NATS_PASSWORD, config.SHOP_NATS_TOKEN]).toEqual(["", "", ""]);
    expect(config.SHOP_NATS_CREDS_FILE).toBeUndefined();
  });

  it("takes a user with a password, a token, or a .creds file read at start", () => {
    const withPassword = loadConfig(platformConfigSpec, {
      ...base,
      SHOP_NATS_USER: "shop",
      SHOP_NATS_PASSWORD: password,
    });
    expect([withPassword.SHOP_NATS_USER, withPassword.SHOP_NATS_PASSWORD]).toEqual(["shop", password]);
    expect(loadConfig(platformConfigSpec, { ...base, SHOP_NATS_TOKEN: password }).SHOP_NATS_TOKEN).toBe(password);
    const path = credsFile();
    const withCreds = loadConfig(platformConfigSpec, { ...base, SHOP_NATS_CREDS_FILE: path });
    expect(withCreds.SHOP_NATS_CREDS_FILE?.path).toBe(path);
    expect(new TextDecoder().decode(withCreds.SHOP_NATS_CREDS_FILE?.contents)).toContain("BEGIN USER NKEY SEED");
  });

  it("wants a user and a password together", () => {
    expect(problemsOf({ ...base, SHOP_NATS_USER: "shop" })).toEqual([
      "SHOP_NATS_USER is set but SHOP_NATS_PASSWORD is not: set both, or neither for a NATS without authentication",
    ]);
    const problems = problemsOf({ ...base, SHOP_NATS_PASSWORD: password });
    expect(problems).toEqual([
      "SHOP_NATS_PASSWORD is set but SHOP_NATS_USER is not: set both, or neither for a NATS without authentication",
    ]);
  });

  it("takes one way to authenticate at a time, in one problem", () => {
    expect(
      problemsOf({ ...base, SHOP_NATS_USER: "shop", SHOP_NATS_PASSWORD: password, SHOP_NATS_TOKEN: password }),
    ).toEqual([
      "SHOP_NATS_TOKEN is set together with SHOP_NATS_USER, SHOP_NATS_PASSWORD: NATS takes one way to authenticate, " +
        "so set only one of SHOP_NATS_USER and SHOP_NATS_PASSWORD, SHOP_NATS_TOKEN, or SHOP_NATS_CREDS_FILE",
    ]);
    const problems = problemsOf({ ...base, SHOP_NATS_TOKEN: password, SHOP_NATS_CREDS_FILE: credsFile() });
    expect(problems).toEqual([expect.stringMatching(/^SHOP_NATS_CREDS_FILE is set together with SHOP_NATS_TOKEN: /)]);
    expect(problems.join("\n")).not.toContain(password);
  });

  it("names the variable and path of a .creds file it cannot read or parse, never its contents", () => {
    const missing = join(dir, "missing.creds");
    expect(problemsOf({ ...base, SHOP_NATS_CREDS_FILE: missing })).toEqual([
      `SHOP_NATS_CREDS_FILE=${missing} cannot be read (ENOENT): point it at the .creds file of this service's user`,
    ]);
    const malformed = credsFile(`SU${password}`);
    const problems = problemsOf({ ...base, SHOP_NATS_CREDS_FILE: malformed });
    expect(problems).toEqual([
      `SHOP_NATS_CREDS_FILE=${malformed} is not a NATS credentials file: it must hold a user JWT and its nkey seed, as nsc writes them`,
    ]);
    expect(problems.join("\n")).not.toContain(password);
  });

  it("refuses credentials in SHOP_NATS_URL, pointing at the variables without quoting the URL", () => {
    for (const url of [`nats://n1:4222,nats://shop:${password}@n2:4222`, `nats://n1:4222,shop:${password}@n2:4222`]) {
      const problems = problemsOf({ ...base, SHOP_NATS_URL: url });
      expect(problems).toEqual([
        "SHOP_NATS_URL entry 2 carries credentials before an @: URLs end up in logs, so take them out and set " +
          "SHOP_NATS_USER and SHOP_NATS_PASSWORD, SHOP_NATS_TOKEN, or SHOP_NATS_CREDS_FILE instead",
      ]);
      expect(problems.join("\n")).not.toContain(password);
    }
  });
});
