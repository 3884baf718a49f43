// docker-compose.yml cannot run here (no Docker engine), so it is checked statically: it runs what `npm start` runs,
// from the one Dockerfile, each container's environment read and accepted by that service's own config, secrets only
// from .env, ports and addresses agreeing with each other and with the launcher, and NATS as a 3-node JetStream
// cluster that requires credentials of clients and routes, whose command lines are also run as local nats-server
// processes. Where Docker's compose client is
// installed, `docker compose config` must agree too.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  contractStreams,
  ensureStreams,
  loadConfig,
  natsAuthorizationConfig,
  natsConnectionOptions,
  platformConfigSpec,
} from "@shop/platform";
import { freePort, waitFor } from "@shop/platform/testing";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  composeProblems,
  exampleSecrets,
  interpolate,
  requiredComposeVariables,
} from "../support/compose-stack-check.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const composeFile = join(root, "docker-compose.yml");
const scratch = mkdtempSync(join(tmpdir(), "compose-file-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Service = Record<string, unknown> & { environment: Record<string, string>; command: string[] };
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown> };

interface Breakage {
  what: string;
  /** A problem the checker must report for it. */
  reported: RegExp;
  compose?: (doc: Compose) => void;
  dockerfile?: (text: string) => string;
}

/** A service of the parsed file, which the breakage below expects to be there. */
function at(doc: Compose, host: string): Service {
  const service = doc.services[host];
  if (service === undefined) throw new Error(`docker-compose.yml has no service ${host}`);
  return service;
}

const withRoutes = (command: string[], routes: string) =>
  command.map((word, at) => (command[at - 1] === "--routes" ? routes : word));
/** The command line without `flag` and its value. */
const without = (command: string[], flag: string) =>
  command.filter((word, at) => word !== flag && command[at - 1] !== flag);

/** One wrong turn each, as a person editing the file might take; the checker must name every one. */
const breakages: Breakage[] = [
  {
    what: "a service npm start runs is missing",
    reported: /orders runs under npm start but no compose service sets SHOP_SERVICE=orders/,
    compose: (doc) => {
      delete doc.services.orders;
    },
  },
  {
    what: "a container runs a service that does not exist",
    reported: /runs SHOP_SERVICE=catalog, which does not exist/,
    compose: (doc) => {
      at(doc, "products").environment.SHOP_SERVICE = "catalog";
    },
  },
  {
    what: "a variable the service never reads",
    reported: /products sets SHOP_DATABASE_POOL, which products never reads/,
    compose: (doc) => {
      at(doc, "products").environment.SHOP_DATABASE_POOL = "20";
    },
  },
  {
    what: "a secret with a default",
    reported: /\$\{SHOP_TOKEN_KEYS:-k1:a+\} gives a secret a default/,
    compose: (doc) => {
      at(doc, "inventory").environment.SHOP_TOKEN_KEYS = `\${SHOP_TOKEN_KEYS:-k1:${"a".repeat(64)}}`;
    },
  },
  {
    what: "a secret written into the file",
    reported: /orders: SHOP_STRIPE_WEBHOOK_SECRET holds a literal credential/,
    compose: (doc) => {
      at(doc, "orders").environment.SHOP_STRIPE_WEBHOOK_SECRET = "whsec_0123456789abcdef";
    },
  },
  {
    what: "a password in a URL written into the file",
    reported: /products: SHOP_DATABASE_URL holds a literal credential/,
    compose: (doc) => {
      at(doc, "products").environment.SHOP_DATABASE_URL = "postgres://shop:hunter2@postgres:5432/shop";
    },
  },
  {
    what: "a required variable left out",
    reported: /orders: its config refuses compose's environment: SHOP_STRIPE_SECRET_KEY is required/,
    compose: (doc) => {
      delete at(doc, "orders").environment.SHOP_STRIPE_SECRET_KEY;
    },
  },
  {
    what: "a calling service without its own key",
    reported: /orders calls http:\/\/inventory:8083 but sets no SHOP_SERVICE_KEY/,
    compose: (doc) => {
      delete at(doc, "orders").environment.SHOP_SERVICE_KEY;
    },
  },
  {
    what: "a calling service's key unknown to the service it calls",
    reported: /orders's SHOP_SERVICE_KEY is not listed as service:… in inventory's SHOP_STATIC_API_KEYS/,
    compose: (doc) => {
      at(doc, "inventory").environment.SHOP_STATIC_API_KEYS = `operator:\${SHOP_OPERATOR_KEY:?set it}`;
    },
  },
  {
    what: "development mode on",
    reported: /gateway: SHOP_DEV_MODE is on/,
    compose: (doc) => {
      at(doc, "gateway").environment.SHOP_DEV_MODE = "1";
    },
  },
  {
    what: "the gateway published on another port",
    reported: /gateway is not published as 8080:8080/,
    compose: (doc) => {
      at(doc, "gateway").ports = ["8000:8080"];
    },
  },
  {
    what: "a service on another port than npm start gives it",
    reported: /orders listens on 9000 \(SHOP_PORT\) where npm start runs orders on 8084/,
    compose: (doc) => {
      at(doc, "orders").environment.SHOP_PORT = "9000";
    },
  },
  {
    what: "a healthcheck probing the wrong port",
    reported: /inventory's healthcheck probes port 8080, but it listens on 8083/,
    compose: (doc) => {
      const healthcheck = at(doc, "inventory").healthcheck as { test: string[] };
      at(doc, "inventory").healthcheck = {
        ...healthcheck,
        test: healthcheck.test.map((w) => w.replace("8083", "8080")),
      };
    },
  },
  {
    what: "an upstream URL on the wrong port",
    reported: /gateway: SHOP_UPSTREAM_SEARCH points at search:9999, but search listens on 8082/,
    compose: (doc) => {
      at(doc, "gateway").environment.SHOP_UPSTREAM_SEARCH = "http://search:9999";
    },
  },
  {
    what: "an upstream URL naming the wrong service",
    reported: /gateway: SHOP_UPSTREAM_SEARCH=http:\/\/products:8081 is not the search service/,
    compose: (doc) => {
      at(doc, "gateway").environment.SHOP_UPSTREAM_SEARCH = "http://products:8081";
    },
  },
  {
    what: "a dependency left at its loopback default",
    reported: /search leaves SHOP_OPENSEARCH_URL at its default "http:\/\/127\.0\.0\.1:9200"/,
    compose: (doc) => {
      delete at(doc, "search").environment.SHOP_OPENSEARCH_URL;
    },
  },
  {
    what: "an address on loopback",
    reported: /orders: SHOP_UPSTREAM_INVENTORY=http:\/\/127\.0\.0\.1:8083 points at the container itself/,
    compose: (doc) => {
      at(doc, "orders").environment.SHOP_UPSTREAM_INVENTORY = "http://127.0.0.1:8083";
    },
  },
  {
    what: "a service listening on loopback only",
    reported: /inventory listens on SHOP_HOST=127\.0\.0\.1/,
    compose: (doc) => {
      at(doc, "inventory").environment.SHOP_HOST = "127.0.0.1";
    },
  },
  {
    what: "a dependency not waited for until healthy",
    reported: /products reaches postgres \(SHOP_DATABASE_URL\) without depends_on postgres: condition service_healthy/,
    compose: (doc) => {
      at(doc, "products").depends_on = {
        ...(at(doc, "products").depends_on as object),
        postgres: { condition: "service_started" },
      };
    },
  },
  {
    what: "a container without a healthcheck",
    reported: /^redis has no healthcheck$/,
    compose: (doc) => {
      delete at(doc, "redis").healthcheck;
    },
  },
  {
    what: "Postgres probed without pg_isready",
    reported: /postgres's healthcheck does not use pg_isready/,
    compose: (doc) => {
      at(doc, "postgres").healthcheck = { test: ["CMD", "true"] };
    },
  },
  {
    what: "a single NATS node",
    reported: /NATS runs as 1 node\(s\), not a 3-node cluster/,
    compose: (doc) => {
      delete doc.services["nats-2"];
      delete doc.services["nats-3"];
    },
  },
  {
    what: "a NATS node that does not route to one of the others",
    reported: /nats-3 does not route to nats-2:6222/,
    compose: (doc) => {
      at(doc, "nats-3").command = withRoutes(at(doc, "nats-3").command, "nats://nats-1:6222");
    },
  },
  {
    what: "a NATS node that lets clients in without credentials",
    reported: /nats-2 lets clients in without credentials/,
    compose: (doc) => {
      at(doc, "nats-2").command = without(at(doc, "nats-2").command, "-c");
    },
  },
  {
    what: "a client password on a NATS node's command line",
    reported: /nats-1 takes a client password on its command line/,
    compose: (doc) => {
      at(doc, "nats-1").command = [...at(doc, "nats-1").command, "--user", "shop", "--pass", "hunter2hunter2"];
    },
  },
  {
    what: "a NATS node reading another authorization config than the generated one",
    reported:
      /nats-3's config \/etc\/nats\/authorization\.conf is not what `npx tsx scripts\/nats-users\.ts --conf` generates/,
    compose: (doc) => {
      at(doc, "nats-3").volumes = ["nats-3-data:/data", "./README.md:/etc/nats/authorization.conf:ro"];
    },
  },
  {
    what: "a NATS node not given a service's password",
    reported: /nats-2 is not given SHOP_NATS_ORDERS_PASSWORD from \.env/,
    compose: (doc) => {
      const { SHOP_NATS_ORDERS_PASSWORD: _, ...rest } = at(doc, "nats-2").environment;
      at(doc, "nats-2").environment = rest;
    },
  },
  {
    what: "a NATS node that accepts routes without credentials",
    reported: /nats-3 accepts routes without credentials/,
    compose: (doc) => {
      at(doc, "nats-3").command = at(doc, "nats-3").command.map((word, i, all) =>
        all[i - 1] === "--cluster" ? "nats://0.0.0.0:6222" : word,
      );
    },
  },
  {
    what: "a NATS route without the other node's route credentials",
    reported: /nats-1's route to nats-3 does not carry the route credentials nats-3 accepts/,
    compose: (doc) => {
      const routes = at(doc, "nats-1")
        .command.find((_, i, all) => all[i - 1] === "--routes")
        ?.split(",") as string[];
      at(doc, "nats-1").command = withRoutes(at(doc, "nats-1").command, [routes[0], "nats://nats-3:6222"].join(","));
    },
  },
  {
    what: "NATS routes that take a client's password",
    reported: /nats-2's routes take a client's password/,
    compose: (doc) => {
      for (const host of ["nats-1", "nats-2", "nats-3"]) {
        at(doc, host).command = at(doc, host).command.map((word) =>
          word.replaceAll("SHOP_NATS_ROUTE_PASSWORD", "SHOP_NATS_GATEWAY_PASSWORD"),
        );
      }
    },
  },
  {
    what: "a service not given its NATS user",
    reported:
      /search is not given its NATS user: set SHOP_NATS_USER=search and SHOP_NATS_PASSWORD=\$\{SHOP_NATS_SEARCH_PASSWORD/,
    compose: (doc) => {
      delete at(doc, "search").environment.SHOP_NATS_USER;
      delete at(doc, "search").environment.SHOP_NATS_PASSWORD;
    },
  },
  {
    what: "a service connecting with another service's NATS password",
    reported: /search is not given its NATS user/,
    compose: (doc) => {
      at(doc, "search").environment.SHOP_NATS_PASSWORD = `\${SHOP_NATS_PRODUCTS_PASSWORD:?set it}`;
    },
  },
  {
    what: "a NATS node without JetStream",
    reported: /nats-2 does not turn JetStream on/,
    compose: (doc) => {
      at(doc, "nats-2").command = at(doc, "nats-2").command.filter((word) => word !== "--jetstream");
    },
  },
  {
    what: "two NATS nodes sharing a store",
    reported: /nats-3 shares the JetStream volume nats-2-data with another node/,
    compose: (doc) => {
      at(doc, "nats-3").volumes = ["nats-2-data:/data"];
    },
  },
  {
    what: "a NATS node probed off its monitoring port",
    reported: /nats-1's healthcheck does not probe \/healthz on its monitoring port \(8222\)/,
    compose: (doc) => {
      at(doc, "nats-1").healthcheck = { test: ["CMD", "wget", "-q", "http://127.0.0.1:4222/healthz"] };
    },
  },
  {
    what: "a service that knows only one NATS node",
    reported: /products: SHOP_NATS_URL lists nats:\/\/nats-1:4222, not every node/,
    compose: (doc) => {
      at(doc, "products").environment.SHOP_NATS_URL = "nats://nats-1:4222";
    },
  },
  {
    what: "streams at one replica",
    reported: /search: SHOP_NATS_STREAM_REPLICAS is 1, not 3/,
    compose: (doc) => {
      at(doc, "search").environment.SHOP_NATS_STREAM_REPLICAS = "1";
    },
  },
  {
    what: "a Dockerfile that always runs one service",
    reported: /the Dockerfile's CMD does not run services\/\$SHOP_SERVICE\/src\/main\.ts/,
    dockerfile: (text) => text.replace(/^CMD .*$/m, 'CMD ["node", "--import", "tsx", "services/products/src/main.ts"]'),
  },
  {
    what: "a Dockerfile that leaves tsx out",
    reported: /installs without dev dependencies, but its CMD needs tsx/,
    dockerfile: (text) => text.replace("RUN npm ci ", "RUN npm ci --omit=dev "),
  },
  {
    what: "a Dockerfile that installs before a workspace's manifest is there",
    reported: /runs npm ci before it copies sdk\/package\.json/,
    dockerfile: (text) => text.replace(/^COPY sdk\/ sdk\/$/m, ""),
  },
];

describe("docker-compose.yml", () => {
  it("runs what npm start runs, wired as each service's config reads it, with NATS as a 3-node cluster", () => {
    expect(composeProblems({ composeFile })).toEqual([]);
  });

  it.each(breakages)("reports $what", ({ reported, compose, dockerfile }) => {
    const dir = mkdtempSync(join(scratch, "broken-"));
    const doc = parse(readFileSync(composeFile, "utf8"), { merge: true }) as Compose;
    compose?.(doc);
    const brokenCompose = join(dir, "docker-compose.yml");
    writeFileSync(brokenCompose, stringify(doc));
    const brokenDockerfile = join(dir, "Dockerfile");
    const original = readFileSync(join(root, "Dockerfile"), "utf8");
    const changed = dockerfile?.(original) ?? original;
    if (dockerfile !== undefined) expect(changed, "the breakage changed nothing").not.toBe(original);
    writeFileSync(brokenDockerfile, changed);

    const problems = composeProblems({ composeFile: brokenCompose, root, dockerfile: brokenDockerfile });
    expect(
      problems.filter((problem) => reported.test(problem)),
      problems.join("\n"),
    ).not.toEqual([]);
  });

  it("mounts nats/authorization.conf as the generator makes it now, so the permissions cannot go stale", () => {
    expect(readFileSync(join(root, "nats", "authorization.conf"), "utf8")).toBe(natsAuthorizationConfig());
  });

  it("requires every secret from .env, and the README says how to make each one", () => {
    const required = requiredComposeVariables(composeFile);
    expect(required).toEqual(
      expect.arrayContaining(["SHOP_TOKEN_KEYS", "SHOP_STRIPE_SECRET_KEY", "SHOP_STRIPE_WEBHOOK_SECRET"]),
    );
    expect(required.filter((name) => exampleSecrets[name] === undefined)).toEqual([]);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = /^## Docker Compose\n[\s\S]*?(?=^## )/m.exec(readme)?.[0] ?? "";
    expect(section, "README has a Docker Compose section").not.toBe("");
    expect(required.filter((name) => !new RegExp(`^${name}=`, "m").test(section))).toEqual([]);
  });

  const composeClient = spawnSync("docker", ["compose", "version"], { encoding: "utf8" });
  it.runIf(composeClient.status === 0)(
    "is accepted by docker compose config, which refuses it without the secrets",
    () => {
      const required = requiredComposeVariables(composeFile);
      const emptyEnvFile = join(scratch, "empty.env");
      writeFileSync(emptyEnvFile, "");
      const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !required.includes(name)));
      const secrets = Object.fromEntries(required.map((name) => [name, exampleSecrets[name]?.() ?? "x"]));
      const config = (env: NodeJS.ProcessEnv) =>
        spawnSync("docker", ["compose", "-f", composeFile, "--env-file", emptyEnvFile, "config", "--format", "json"], {
          env,
          encoding: "utf8",
        });

      const accepted = config({ ...base, ...secrets });
      expect(accepted.status, accepted.stderr).toBe(0);
      const resolved = JSON.parse(accepted.stdout) as { services: Record<string, unknown> };
      const ours = parse(readFileSync(composeFile, "utf8"), { merge: true }) as Compose;
      expect(Object.keys(resolved.services).sort()).toEqual(Object.keys(ours.services).sort());

      const refused = config(base);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(new RegExp(required.join("|")));
    },
  );
});

interface NodePorts {
  client: number;
  cluster: number;
  monitor: number;
}

/** `url` at 127.0.0.1:`port`, keeping its credentials (a route's `user:password@`). */
function movedUrl(url: string, port: number | undefined): string {
  const { protocol, username, password } = new URL(url);
  return `${protocol}//${username === "" ? "" : `${username}:${password}@`}127.0.0.1:${port}`;
}

/**
 * A NATS node's compose command line (interpolated) for a local process: the same flags, with the hosts and ports it
 * names moved to free local ones (in compose every node has 4222/6222/8222 to itself), the store in `store` and a
 * config file read where compose mounts it from (`mounts`: container path → checkout path).
 */
function localNatsCommand(
  command: string[],
  host: string,
  ports: Map<string, NodePorts>,
  store: string,
  mounts: Map<string, string>,
): string[] {
  const own = ports.get(host) as NodePorts;
  const flags = command[0] === "nats-server" ? command.slice(1) : command;
  const local = ["-a", "127.0.0.1", "-p", String(own.client)];
  for (let at = 0; at < flags.length; at++) {
    const flag = flags[at] ?? "";
    const value = flags[at + 1] ?? "";
    const moved: Record<string, () => string> = {
      "--cluster": () => movedUrl(value, own.cluster),
      "--routes": () =>
        value
          .split(",")
          .map((route) => movedUrl(route, ports.get(new URL(route).hostname)?.cluster))
          .join(","),
      "--http_port": () => String(own.monitor),
      "-m": () => String(own.monitor),
      "--store_dir": () => store,
      "-sd": () => store,
      "-c": () => mounts.get(value) ?? value,
      "--config": () => mounts.get(value) ?? value,
    };
    const move = moved[flag];
    if (move !== undefined) {
      local.push(flag, move());
      at++;
    } else if (flag === "-p" || flag === "--port") at++;
    else local.push(flag);
  }
  return local;
}

const natsServer = "/usr/sbin/nats-server";
describe.runIf(existsSync(natsServer))("the NATS cluster as docker-compose.yml runs it", () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(children.map((child) => stopProcess(child)));
  });

  it("forms one JetStream cluster, for the services' users only, whose streams keep taking writes when a node is killed", {
    timeout: 180_000,
  }, async () => {
    const doc = parse(readFileSync(composeFile, "utf8"), { merge: true }) as Compose;
    // The .env: every secret the file requires, made as the README says; the command lines and a service's
    // environment interpolated with it, as compose does.
    const dotEnv = Object.fromEntries(
      requiredComposeVariables(composeFile).map((name) => [name, exampleSecrets[name]?.() ?? ""]),
    );
    const interpolated = (words: string[]) => words.map((word) => interpolate(word, dotEnv));
    const nodes = Object.keys(doc.services).filter((host) => String(doc.services[host]?.image).startsWith("nats:"));
    expect(nodes).toHaveLength(3);
    const ports = new Map<string, NodePorts>();
    for (const host of nodes)
      ports.set(host, { client: await freePort(), cluster: await freePort(), monitor: await freePort() });
    const byName = new Map<string, ChildProcess>();
    for (const host of nodes) {
      const store = join(scratch, "nats", host);
      mkdirSync(store, { recursive: true });
      const command = interpolated(doc.services[host]?.command ?? []);
      const mounts = new Map(
        ((doc.services[host]?.volumes ?? []) as string[])
          .map((volume) => volume.split(":"))
          .filter(([source]) => source?.startsWith("./"))
          .map(([source, target]) => [target ?? "", join(root, source ?? "")]),
      );
      // The node's environment as compose gives it: the passwords its config file names.
      const nodeEnv = Object.fromEntries(
        Object.entries(doc.services[host]?.environment ?? {}).map(([name, value]) => [
          name,
          interpolate(value, dotEnv),
        ]),
      );
      const child = spawn(natsServer, localNatsCommand(command, host, ports, store, mounts), {
        stdio: "ignore",
        env: { ...process.env, ...nodeEnv },
      });
      children.push(child);
      byName.set(host, child);
    }
    // What the compose healthcheck asks: every node's /healthz answers 200 once the cluster has formed.
    for (const host of nodes) {
      const healthz = `http://127.0.0.1:${ports.get(host)?.monitor}/healthz`;
      await waitFor(async () => (await fetch(healthz).catch(() => undefined))?.ok === true, 60_000, `${host} healthy`);
    }

    const servers = nodes.map((host) => `nats://127.0.0.1:${ports.get(host)?.client}`);
    await expect(connect({ servers }), "a client without credentials").rejects.toThrow(/Authorization Violation/);
    // Connected as the products container would be: its environment, read by the platform's own config and options.
    const productsEnv = Object.fromEntries(
      Object.entries(at(doc, "products").environment).map(([name, value]) => [
        name,
        interpolate(String(value), dotEnv),
      ]),
    );
    const config = loadConfig(platformConfigSpec, { ...productsEnv, SHOP_NATS_URL: servers.join(",") });
    expect(config.SHOP_NATS_USER, "products connects as its own NATS user").toBe("products");
    expect(config.SHOP_NATS_PASSWORD, "products is given its NATS password").not.toBe("");
    const nc = await connect(natsConnectionOptions("products", config));
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000 });
      const js = jetstream(nc, { timeout: 5_000 });
      // Products may make only the contract's streams, and publish only its own events.
      await expect(jsm.streams.add({ name: "COMPOSE_CLUSTER_CHECK", subjects: ["compose.check"] })).rejects.toThrow(
        /Permissions Violation/,
      );
      const spec = contractStreams().find((candidate) => candidate.name === "PRODUCTS");
      if (spec === undefined) throw new Error("the contract has no PRODUCTS stream");
      const stream = spec.name;
      await retry(() => ensureStreams(jsm, [spec], { replicas: 3 }));
      const publish = (from: number, to: number) =>
        Promise.all(
          Array.from({ length: to - from }, (_, i) =>
            retry(() =>
              js.publish(`shop.products.product.check-${from + i}`, `event ${from + i}`, {
                msgID: `event-${from + i}`,
              }),
            ),
          ),
        );
      await publish(0, 50);
      const before = await jsm.streams.info(stream);
      expect(before.cluster?.replicas?.map((replica) => replica.name).sort()).toEqual(
        nodes.filter((host) => host !== before.cluster?.leader).sort(),
      );

      // The leader goes, without a word: the other two elect a new one and go on storing.
      const leader = byName.get(before.cluster?.leader ?? "");
      expect(leader, `the leader ${before.cluster?.leader} is one of ${nodes.join(", ")}`).toBeDefined();
      await stopProcess(leader as ChildProcess, "SIGKILL");
      await publish(50, 100);
      const after = await retry(() => jsm.streams.info(stream));
      expect(after.state.messages).toBe(100);
      expect(after.cluster?.leader).not.toBe(before.cluster?.leader);
    } finally {
      await nc.close();
    }
  });
});

/** Runs `attempt` until it succeeds, for up to a minute: JetStream answers nothing while it elects a leader. */
async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}
