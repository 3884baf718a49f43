// A service authenticates to NATS the way SHOP_NATS_* say: with a user and password, a token or a .creds file, each
// against a nats-server of this test that requires it. Refused credentials stop createPlatform with a message that
// names the variables to set, and neither that message nor the log (at trace level) ever holds the secret.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  contractStreams,
  createLogger,
  createPlatform,
  isConfigError,
  loadConfig,
  namespacedStream,
  platformConfigSpec,
} from "../src/index.js";
import { generateTestTokenKeys, type OwnServer, startOwnNats, waitFor } from "../src/testing/index.js";
import { createNatsOperator, type NatsOperator } from "./fixtures/nats-operator.js";

const user = "shop";
const password = randomBytes(24).toString("hex");
const token = randomBytes(24).toString("hex");
const dir = mkdtempSync(join(tmpdir(), "shop-nats-auth-"));
const lines: string[] = [];
let operator: NatsOperator;
let untrusted: NatsOperator;
let withPassword: OwnServer;
let withToken: OwnServer;
let withOperator: OwnServer;

beforeAll(async () => {
  operator = createNatsOperator(mkdtempSync(join(dir, "operator-")));
  untrusted = createNatsOperator(mkdtempSync(join(dir, "untrusted-")));
  [withPassword, withToken, withOperator] = await Promise.all([
    startOwnNats({ args: ["--user", user, "--pass", password] }),
    startOwnNats({ args: ["--auth", token] }),
    startOwnNats({ args: ["-c", operator.serverConfig] }),
  ]);
});

afterAll(async () => {
  await Promise.all([withPassword?.dispose(), withToken?.dispose(), withOperator?.dispose()]);
  rmSync(dir, { recursive: true, force: true });
});

/** The platform config of a service in its own namespace, with `nats` as its SHOP_NATS_* variables. */
function configWith(nats: Record<string, string>) {
  return loadConfig(platformConfigSpec, {
    SHOP_NAMESPACE: `t${randomBytes(4).toString("hex")}`,
    SHOP_TOKEN_KEYS: generateTestTokenKeys(),
    ...nats,
  });
}

/** createPlatform as a service runs it, logging at trace level into `lines`. */
function platformWith(nats: Record<string, string>) {
  const logger = createLogger("products", "trace", { write: (line: string) => void lines.push(line) });
  return createPlatform("products", configWith(nats), { logger });
}

/** What createPlatform threw; fails the test when it started. */
async function refusal(nats: Record<string, string>): Promise<Error> {
  const outcome = await platformWith(nats).then(
    async (platform) => {
      await platform.close();
      return undefined;
    },
    (err: Error) => err,
  );
  if (outcome === undefined) throw new Error("createPlatform connected, but NATS should have refused it");
  return outcome;
}

describe("NATS authentication", () => {
  const methods = [
    {
      what: "a user and password",
      nats: () => ({ SHOP_NATS_USER: user, SHOP_NATS_PASSWORD: password }),
      server: () => withPassword,
    },
    { what: "a token", nats: () => ({ SHOP_NATS_TOKEN: token }), server: () => withToken },
    { what: "a .creds file", nats: () => ({ SHOP_NATS_CREDS_FILE: operator.credsFile }), server: () => withOperator },
  ];

  it.each(methods)("connects with $what and provisions the contract's streams", async ({ nats, server }) => {
    const platform = await platformWith({ SHOP_NATS_URL: server().url, ...nats() });
    try {
      const names: string[] = [];
      for await (const name of platform.jsm.streams.names()) names.push(name);
      const namespace = platform.config.SHOP_NAMESPACE;
      expect(names.sort()).toEqual(
        contractStreams(namespace)
          .map((stream) => stream.name)
          .sort(),
      );
      expect(names.every((name) => name.startsWith(namespacedStream(namespace, "")))).toBe(true);
    } finally {
      await platform.close();
    }
  });

  it("refuses a wrong password, naming the variables without the password", async () => {
    const wrong = randomBytes(24).toString("hex");
    const err = await refusal({ SHOP_NATS_URL: withPassword.url, SHOP_NATS_USER: user, SHOP_NATS_PASSWORD: wrong });
    expect(isConfigError(err)).toBe(true);
    expect(err.message).toMatch(
      /refused the connection \(Authorization Violation\): set SHOP_NATS_USER and SHOP_NATS_PASSWORD/,
    );
    expect(err.message).not.toContain(wrong);
  });

  it("tells a service without credentials which variables to set", async () => {
    for (const server of [withPassword, withToken, withOperator]) {
      const err = await refusal({ SHOP_NATS_URL: server.url });
      expect(err.message).toMatch(
        /these servers require authentication, so set SHOP_NATS_USER and SHOP_NATS_PASSWORD, SHOP_NATS_TOKEN, or SHOP_NATS_CREDS_FILE/,
      );
    }
  });

  it("refuses a wrong token, naming SHOP_NATS_TOKEN without the token", async () => {
    const wrong = randomBytes(24).toString("hex");
    const err = await refusal({ SHOP_NATS_URL: withToken.url, SHOP_NATS_TOKEN: wrong });
    expect(err.message).toMatch(/set SHOP_NATS_TOKEN to the token the NATS servers accept/);
    expect(err.message).not.toContain(wrong);
  });

  it("refuses a .creds file of an operator the server does not trust, naming the file without its seed", async () => {
    const err = await refusal({ SHOP_NATS_URL: withOperator.url, SHOP_NATS_CREDS_FILE: untrusted.credsFile });
    expect(err.message).toContain(
      `SHOP_NATS_CREDS_FILE=${untrusted.credsFile} holds a user the NATS servers do not accept`,
    );
    expect(err.message).not.toContain(untrusted.seed);
  });

  it("logs which variables to set when a server refuses the password on a reconnect", async () => {
    const platform = await platformWith({
      SHOP_NATS_URL: withPassword.url,
      SHOP_NATS_USER: user,
      SHOP_NATS_PASSWORD: password,
    });
    const closed = platform.nats.closed();
    const running = await platform.serve({ name: "products", routes: () => undefined });
    const readyz = async () => (await fetch(`${running.url}/readyz`)).status;
    expect(await readyz()).toBe(200);
    // The password changes on the server's side only: the same port, another password.
    await withPassword.kill();
    const rotated = await startOwnNats({
      port: withPassword.port,
      args: ["--user", user, "--pass", randomBytes(24).toString("hex")],
    });
    try {
      await waitFor(
        () => lines.some((line) => line.includes("set SHOP_NATS_USER and SHOP_NATS_PASSWORD")),
        15_000,
        "the refusal in the log",
      );
      // nats.js gives up after the same refusal twice, rather than retrying a password that cannot change by itself.
      await closed;
      expect(lines.join("\n")).toContain("NATS connection lost; reconnecting");
      // Closed for good, the service says it is not ready rather than serve without its events.
      expect(await readyz()).toBe(503);
    } finally {
      await running.shutdown();
      await rotated.dispose();
    }
  });

  it("writes no password, token or seed into the log", () => {
    expect(lines.length).toBeGreaterThan(0);
    const log = lines.join("\n");
    for (const secret of [password, token, operator.seed, untrusted.seed]) expect(log).not.toContain(secret);
  });
});
