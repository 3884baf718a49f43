// A static check of docker-compose.yml and the Dockerfile against what `npm start` runs and what each service's config
// reads, for machines without Docker (and before any image is built). It parses the file as compose does (anchors and
// merge keys), interpolates the secrets with example values made as the README says, and feeds each container's
// environment to the service's own config loader: a variable the loader never reads, a required one left out, a
// loopback default that inside a container means the container itself, all show up as problems.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { loadGatewayConfig } from "@shop/gateway";
import { loadInventoryConfig } from "@shop/inventory";
import { loadOrdersConfig } from "@shop/orders";
import {
  isConfigError,
  isNatsServiceName,
  natsAuthorizationConfig,
  natsPasswordVariable,
  natsServiceNames,
} from "@shop/platform";
import { loadProductsConfig } from "@shop/products";
import { loadSearchConfig } from "@shop/search";
import { loadStripeEmulatorConfig } from "@shop/stripe-emulator";
import { parse } from "yaml";
import { type StackService, stackServices } from "../../scripts/stack/stack-services.js";

type Env = Record<string, string | undefined>;
type ConfigLoader = (env: Env) => Record<string, unknown>;

/** Each service's own config loader, by its SHOP_SERVICE name: the one place that knows which variables it reads. */
const configLoaders: Record<string, ConfigLoader> = {
  products: loadProductsConfig,
  inventory: loadInventoryConfig,
  search: loadSearchConfig,
  "stripe-emulator": loadStripeEmulatorConfig,
  orders: loadOrdersConfig,
  gateway: loadGatewayConfig,
};

const natsPassword = () => `pw${randomBytes(32).toString("hex")}`;
const apiKey = () => `sk_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;

/**
 * A value for every secret compose requires, made the way the README's `.env` recipe makes it, so the services'
 * own validation (key formats, randomness of token keys) runs on what a deployment would really set.
 */
export const exampleSecrets: Record<string, () => string> = {
  SHOP_TOKEN_KEYS: () => `k1:${randomBytes(48).toString("base64")}`,
  SHOP_OPERATOR_KEY: apiKey,
  SHOP_ORDERS_SERVICE_KEY: apiKey,
  SHOP_STRIPE_SECRET_KEY: () => `sk_test_${randomBytes(24).toString("hex")}`,
  SHOP_STRIPE_WEBHOOK_SECRET: () => `whsec_${randomBytes(24).toString("hex")}`,
  SHOP_POSTGRES_PASSWORD: () => randomBytes(32).toString("hex"),
  SHOP_REDIS_PASSWORD: () => randomBytes(32).toString("hex"),
  // nats-server reads these as config values: the leading letters keep a password like 1e5… from being a number.
  ...Object.fromEntries(natsServiceNames.map((service) => [natsPasswordVariable(service), natsPassword])),
  SHOP_NATS_ROUTE_PASSWORD: () => randomBytes(32).toString("hex"),
};

const secretName = /KEY|SECRET|PASSWORD|TOKEN/;
/** A loopback host in a value (a bare host, a URL, a JSON string): inside a container, the container itself. */
const loopback = /(^|["/@,])(127\.0\.0\.1|localhost|\[::1\])(?=[:/",]|$)/;
const interpolation = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g;

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | number | { target?: number; published?: number | string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
}

interface ComposeFile {
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** One `${…}` of the file: the variable, its operator (`:?`, `:-`, … or none) and the message or default after it. */
interface Interpolation {
  name: string;
  operator: string;
  argument: string;
}

function interpolationsOf(raw: string): Interpolation[] {
  return [...raw.replaceAll("$$", "").matchAll(interpolation)].map((match) => ({
    name: match[1] ?? "",
    operator: match[2] ?? "",
    argument: match[3] ?? "",
  }));
}

/** Compose's interpolation of one value, with `vars` as the `.env`; `$$` is a literal `$`. */
export function interpolate(raw: string, vars: Env): string {
  return raw
    .split("$$")
    .map((part) =>
      part.replace(interpolation, (_match, name: string, operator = "", argument = "") => {
        const value = vars[name];
        const unset = operator.startsWith(":") ? value === undefined || value === "" : value === undefined;
        if (operator.endsWith("-")) return unset ? argument : (value ?? "");
        if (operator.endsWith("+")) return unset ? "" : argument;
        return value ?? "";
      }),
    )
    .join("$");
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.split("=")[0] ?? "", entry.split("=").slice(1).join("=")]));
  }
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value === null ? "" : String(value)]));
}

/** A service's command line as written, before interpolation. */
function rawCommandOf(service: ComposeService): string[] {
  const command = service.command ?? [];
  return Array.isArray(command) ? command.map(String) : command.split(/\s+/).filter(Boolean);
}

function healthcheckOf(service: ComposeService): string {
  if (service.healthcheck?.disable) return "";
  const test = service.healthcheck?.test ?? "";
  const words = Array.isArray(test) ? test : [test];
  return words[0] === "NONE" ? "" : words.join(" ");
}

function dependsOn(service: ComposeService): Map<string, string> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return new Map(deps.map((name) => [name, "service_started"]));
  return new Map(Object.entries(deps).map(([name, dep]) => [name, dep?.condition ?? "service_started"]));
}

/** The `published:target` pairs of a service's `ports`. */
function publishedPorts(service: ComposeService): { published: number; target: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === "object") return { published: Number(port.published), target: Number(port.target) };
    const parts = String(port)
      .replace(/\/\w+$/, "")
      .split(":");
    const target = Number(parts.at(-1));
    return { published: parts.length > 1 ? Number(parts.at(-2)) : target, target };
  });
}

function mountedVolumes(service: ComposeService): { source: string; target: string }[] {
  return (service.volumes ?? []).map((volume) =>
    typeof volume === "string"
      ? { source: volume.split(":")[0] ?? "", target: volume.split(":")[1] ?? "" }
      : { source: volume.source ?? "", target: volume.target ?? "" },
  );
}

/** The value of a `--flag value` (any of its spellings) in a command line, or undefined. */
function flagValue(command: string[], ...spellings: string[]): string | undefined {
  const at = command.findIndex((word) => spellings.includes(word.split("=")[0] ?? ""));
  if (at === -1) return undefined;
  const word = command[at] ?? "";
  return word.includes("=") ? word.slice(word.indexOf("=") + 1) : command[at + 1];
}

/** host:port of every URL in a value (lists and `secret@url` forms included). */
function urlTargets(value: string): { host: string; port: number }[] {
  return [...value.matchAll(/[a-z]+:\/\/(?:[^@/\s,]*@)?([A-Za-z0-9.-]+):(\d+)/g)].map((match) => ({
    host: match[1] ?? "",
    port: Number(match[2]),
  }));
}

interface ShopContainer {
  /** The compose service's name (its host name on the compose network). */
  host: string;
  /** SHOP_SERVICE: the folder under services/ it runs. */
  service: string;
  raw: Record<string, string>;
  env: Record<string, string>;
  /** Every variable the service's config loader looked at. */
  reads: Set<string>;
  config: Record<string, unknown> | undefined;
  port: number | undefined;
}

/** Runs a config loader on `env`, recording which variables it reads; a refused config is returned as problems. */
function loadRecorded(
  load: ConfigLoader,
  env: Env,
): { reads: Set<string>; config?: Record<string, unknown>; problems: string[] } {
  const reads = new Set<string>();
  const recorder = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") reads.add(name);
      return target[name as string];
    },
  });
  try {
    return { reads, config: load(recorder), problems: [] };
  } catch (err) {
    if (!isConfigError(err)) throw err;
    return { reads, problems: err.problems };
  }
}

export interface ComposeCheckOptions {
  composeFile: string;
  /** The checkout the file builds from (services/, package.json, .dockerignore). Default: the file's folder. */
  root?: string;
  /** The Dockerfile whose contents are checked. Default: `Dockerfile` in `root`, the one compose builds. */
  dockerfile?: string;
  /** What `npm start` runs. Default: the launcher's `stackServices`. */
  services?: StackService[];
}

/** The parsed file, and what the checks learn of it on the way, each adding the problems it finds. */
interface Stack {
  root: string;
  /** The file as written, before interpolation. */
  text: string;
  /** What `npm start` runs. */
  expected: StackService[];
  compose: ComposeFile;
  services: Record<string, ComposeService>;
  /** The example `.env`: a value for each variable the file requires. */
  vars: Env;
  /** The containers that run a Shop service. */
  shop: ShopContainer[];
  /** The port each container listens on, by its host name. */
  listens: Map<string, number>;
  problems: string[];
}

/**
 * Everything wrong with the compose file (and the Dockerfile it builds), as sentences; empty when it runs what
 * `npm start` runs, wired as each service's config expects.
 */
export function composeProblems(options: ComposeCheckOptions): string[] {
  const root = options.root ?? dirname(options.composeFile);
  const text = readFileSync(options.composeFile, "utf8");
  const compose = parse(text, { merge: true }) as ComposeFile;
  const stack: Stack = {
    root,
    text,
    expected: options.services ?? stackServices,
    compose,
    services: compose.services ?? {},
    vars: {},
    shop: [],
    listens: new Map(),
    problems: [],
  };
  checkSecrets(stack);
  checkContainers(stack);
  for (const container of stack.shop) checkVariables(stack, container);
  checkCallers(stack);
  checkNats(stack);
  checkAddresses(stack);
  stack.problems.push(...dockerfileProblems(options.dockerfile ?? join(root, "Dockerfile"), root));
  return stack.problems;
}

/** Every `${…}` of a secret is required (`:?`), never given a default, and no secret is written into the file. */
function checkSecrets({ text, services, vars, problems }: Stack): void {
  for (const use of interpolationsOf(text)) {
    if (secretName.test(use.name) && !use.operator.endsWith("?")) {
      problems.push(
        `\${${use.name}${use.operator}${use.argument}} gives a secret a default: make it \${${use.name}:?…}`,
      );
    }
    if (use.operator.endsWith("?") && !(use.name in vars)) {
      const make = exampleSecrets[use.name];
      if (make === undefined) problems.push(`\${${use.name}:?…} is required but has no recipe in exampleSecrets`);
      vars[use.name] = make?.();
    }
  }
  for (const [host, service] of Object.entries(services)) {
    for (const [name, raw] of Object.entries(environmentOf(service))) {
      const literal = raw.replaceAll("$$", "").replace(interpolation, "");
      if (secretName.test(name) && raw !== "" && !interpolationsOf(raw).some((use) => use.operator.endsWith("?"))) {
        problems.push(`${host}: ${name} is written in the file; take it from .env as \${…:?…}`);
      }
      if (/sk_\w|whsec_\w/.test(literal) || /:\/\/[^:@/\s]*:[^@/\s]+@/.test(literal)) {
        problems.push(`${host}: ${name} holds a literal credential; take it from .env as \${…:?…}`);
      }
    }
  }
}

/** What npm start runs, each from the one Dockerfile, and every container with a healthcheck. */
function checkContainers({ root, expected, services, vars, shop, problems }: Stack): void {
  // Every container says when it is healthy, so depends_on can wait for it.
  for (const [host, service] of Object.entries(services)) {
    if (healthcheckOf(service).trim() === "") problems.push(`${host} has no healthcheck`);
  }
  for (const [host, service] of Object.entries(services)) {
    const raw = environmentOf(service);
    const runs = raw.SHOP_SERVICE;
    const context = typeof service.build === "string" ? service.build : service.build?.context;
    if (service.build !== undefined) {
      const file = typeof service.build === "object" ? (service.build.dockerfile ?? "Dockerfile") : "Dockerfile";
      if (normalize(join(context ?? ".", file)) !== "Dockerfile") {
        problems.push(`${host} is built from ${file} in ${context}, not from the one Dockerfile`);
      }
      if (runs === undefined) problems.push(`${host} is built from the Dockerfile but sets no SHOP_SERVICE`);
    }
    if (runs === undefined) continue;
    if (service.build === undefined)
      problems.push(`${host} runs SHOP_SERVICE=${runs} but is not built from the Dockerfile`);
    if (!existsSync(join(root, "services", runs, "src", "main.ts"))) {
      problems.push(`${host} runs SHOP_SERVICE=${runs}, which does not exist (no services/${runs}/src/main.ts)`);
      continue;
    }
    const env = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, interpolate(value, vars)]));
    shop.push({ host, service: runs, raw, env, reads: new Set(), config: undefined, port: undefined });
  }
  for (const { name } of expected) {
    const running = shop.filter((container) => container.service === name);
    if (running.length === 0)
      problems.push(`${name} runs under npm start but no compose service sets SHOP_SERVICE=${name}`);
    if (running.length > 1)
      problems.push(`${name} is run by ${running.map((c) => c.host).join(" and ")}; scale one service instead`);
  }
}

/** The container's environment is one its service's config reads and accepts, and its port the launcher's. */
function checkVariables({ expected, services, problems }: Stack, container: ShopContainer): void {
  const load = configLoaders[container.service];
  if (load === undefined) {
    problems.push(`${container.service} has no config loader in compose-stack-check.ts`);
    return;
  }
  const loaded = loadRecorded(load, { ...container.env });
  container.reads = loaded.reads;
  container.config = loaded.config;
  for (const problem of loaded.problems)
    problems.push(`${container.host}: its config refuses compose's environment: ${problem}`);
  if (loaded.config?.SHOP_DEV_MODE === true) {
    problems.push(`${container.host}: SHOP_DEV_MODE is on: development mode invents token keys, never in this stack`);
  }
  for (const name of Object.keys(container.env)) {
    if (name.startsWith("SHOP_") && name !== "SHOP_SERVICE" && !loaded.reads.has(name)) {
      problems.push(`${container.host} sets ${name}, which ${container.service} never reads`);
    }
  }
  for (const name of loaded.reads) {
    const value = name in container.env ? container.env[name] : JSON.stringify(loaded.config?.[name] ?? "");
    if (!name.startsWith("SHOP_") || !loopback.test(value ?? "")) continue;
    if (name in container.env && /_HOST$/.test(name)) {
      problems.push(`${container.host} listens on ${name}=${value}, unreachable from other containers`);
    } else if (name in container.env && !/_PUBLIC_URL$/.test(name)) {
      // A public URL is for browsers on the Docker host, where localhost is right; anything else is for containers.
      problems.push(`${container.host}: ${name}=${value} points at the container itself`);
    } else if (!(name in container.env)) {
      problems.push(
        `${container.host} leaves ${name} at its default ${value}, which in a container is the container itself`,
      );
    }
  }
  // What the service cannot start without comes from .env, required: without it the config refuses to load.
  for (const name of Object.keys(container.env)) {
    const rest: Env = { ...container.env };
    delete rest[name];
    const namesIt = new RegExp(`^${name}(?![A-Z0-9_])`);
    const required = loadRecorded(load, rest).problems.some((problem) => namesIt.test(problem));
    const fromEnv = interpolationsOf(container.raw[name] ?? "").some((use) => use.operator.endsWith("?"));
    if (required && !fromEnv) {
      problems.push(
        `${container.host}: ${name} is required by ${container.service}; take it from .env as \${${name}:?…}`,
      );
    }
  }
  const portVariables = [...loaded.reads].filter((name) => /^SHOP_(\w+_)?PORT$/.test(name));
  const portVariable = portVariables.length === 1 ? portVariables[0] : undefined;
  if (portVariable === undefined) {
    problems.push(`${container.host}: cannot tell which of ${portVariables.join(", ")} is its port`);
  } else if (container.config !== undefined) {
    container.port = Number(container.config[portVariable]);
    const launcherPort = expected.find((s) => s.name === container.service)?.defaultPort;
    if (launcherPort !== undefined && container.port !== launcherPort) {
      problems.push(
        `${container.host} listens on ${container.port} (${portVariable}) where npm start runs ${container.service} on ${launcherPort}`,
      );
    }
    const probe = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)\/readyz/.exec(
      healthcheckOf(services[container.host] ?? {}),
    );
    if (probe === null) problems.push(`${container.host}'s healthcheck does not probe /readyz on its own address`);
    else if (Number(probe[1]) !== container.port) {
      problems.push(`${container.host}'s healthcheck probes port ${probe[1]}, but it listens on ${container.port}`);
    }
  }
}

/** A service that calls another does so as itself, with a key the callee knows, at the address of the right service. */
function checkCallers({ shop, problems }: Stack): void {
  for (const container of shop) {
    const callees = Object.entries(container.env).filter(([name]) => name.startsWith("SHOP_UPSTREAM_"));
    if (container.service === "gateway" || callees.length === 0) continue;
    const key = container.env.SHOP_SERVICE_KEY ?? "";
    if (key === "") {
      problems.push(`${container.host} calls ${callees.map(([, url]) => url).join(", ")} but sets no SHOP_SERVICE_KEY`);
      continue;
    }
    for (const [, url] of callees) {
      const callee = shop.find((c) => c.host === urlTargets(url)[0]?.host);
      const known = (callee?.env.SHOP_STATIC_API_KEYS ?? "").split(",").includes(`service:${key}`);
      if (callee !== undefined && !known)
        problems.push(
          `${container.host}'s SHOP_SERVICE_KEY is not listed as service:… in ${callee.host}'s SHOP_STATIC_API_KEYS`,
        );
    }
  }
  const products = shop.find((container) => container.service === "products");
  if (
    products !== undefined &&
    !(products.env.SHOP_STATIC_API_KEYS ?? "").split(",").some((entry) => entry.startsWith("operator:sk_"))
  ) {
    problems.push("products (which hosts the API keys) has no bootstrap operator:… key in SHOP_STATIC_API_KEYS");
  }

  // Upstream names agree with the services they point at.
  for (const container of shop) {
    for (const [name, url] of Object.entries(container.env)) {
      const upstream = /^SHOP_UPSTREAM_(\w+)$/.exec(name)?.[1]?.toLowerCase().replaceAll("_", "-");
      const host = urlTargets(url)[0]?.host;
      const target = shop.find((c) => c.host === host);
      if (upstream !== undefined && target?.service !== upstream)
        problems.push(`${container.host}: ${name}=${url} is not the ${upstream} service`);
    }
  }
}

/** The credentials of a URL (`user:password@`), empty when it has none. */
function userInfo(url: string | undefined): string {
  return /^[a-z]+:\/\/([^@/\s,]*)@/.exec(url ?? "")?.[1] ?? "";
}

/** Whether a command-line value comes from .env, required (`${…:?…}`), rather than being written in the file. */
function fromEnvFile(raw: string | undefined): boolean {
  return interpolationsOf(raw ?? "").some((use) => use.operator.endsWith("?") && secretName.test(use.name));
}

/**
 * NATS: three JetStream nodes, each routing to the other two with its own store, every service knowing all three;
 * clients (one user per service, with its own permissions) and routes alike authenticated, with passwords from .env.
 */
function checkNats({ root, compose, services, shop, listens, vars, problems }: Stack): void {
  const nats = Object.keys(services).filter((host) => (services[host]?.image ?? "").startsWith("nats:"));
  if (nats.length !== 3) problems.push(`NATS runs as ${nats.length} node(s), not a 3-node cluster`);
  const commandOf = (service: ComposeService) => rawCommandOf(service).map((word) => interpolate(word, vars));
  const clientPort = new Map<string, number>();
  const clusterPort = new Map<string, number>();
  const routeCredentials = new Map<string, string>();
  for (const host of nats) {
    const command = commandOf(services[host] ?? {});
    routeCredentials.set(host, userInfo(flagValue(command, "--cluster", "--cluster_listen")));
    clientPort.set(host, Number(flagValue(command, "-p", "--port") ?? 4222));
    listens.set(host, clientPort.get(host) ?? 4222);
    clusterPort.set(host, urlTargets(flagValue(command, "--cluster", "--cluster_listen") ?? "")[0]?.port ?? Number.NaN);
  }
  const clusterNames = new Set(nats.map((host) => flagValue(commandOf(services[host] ?? {}), "--cluster_name")));
  if (clusterNames.size > 1) problems.push(`the NATS nodes name different clusters: ${[...clusterNames].join(", ")}`);
  const stores = new Set<string>();
  for (const host of nats) {
    const service = services[host] ?? {};
    const command = commandOf(service);
    if (!/^nats:2\.10\b/.test(service.image ?? "")) problems.push(`${host} runs ${service.image}, not NATS 2.10`);
    if (!command.some((word) => word === "-js" || word === "--jetstream"))
      problems.push(`${host} does not turn JetStream on`);
    if (flagValue(command, "--cluster_name") === undefined) problems.push(`${host} names no cluster (--cluster_name)`);
    if (flagValue(command, "-n", "--name", "--server_name") !== host)
      problems.push(`${host} is not named ${host} (--server_name)`);
    const routes = urlTargets(flagValue(command, "--routes") ?? "");
    const others = nats.filter((node) => node !== host);
    for (const other of others) {
      if (!routes.some((route) => route.host === other && route.port === clusterPort.get(other))) {
        problems.push(`${host} does not route to ${other}:${clusterPort.get(other)}`);
      }
    }
    for (const route of routes)
      if (!others.includes(route.host)) problems.push(`${host} routes to ${route.host}, not another node`);
    checkNatsAuth(root, host, services[host] ?? {}, vars, routeCredentials, problems);
    const storeDir = flagValue(command, "-sd", "--store_dir");
    const store = mountedVolumes(service).find((volume) => volume.target === storeDir);
    if (storeDir === undefined || store === undefined || !(store.source in (compose.volumes ?? {}))) {
      problems.push(`${host} keeps JetStream (--store_dir ${storeDir}) outside a named volume of its own`);
    } else if (stores.has(store.source))
      problems.push(`${host} shares the JetStream volume ${store.source} with another node`);
    else stores.add(store.source);
    const monitor = flagValue(command, "-m", "--http_port");
    const probe = /:(\d+)\/healthz/.exec(healthcheckOf(service));
    if (monitor === undefined || probe === null || probe[1] !== monitor) {
      problems.push(`${host}'s healthcheck does not probe /healthz on its monitoring port (${monitor ?? "none"})`);
    }
  }
  checkNatsClients(nats, services, shop, vars, problems);
  const cluster = nats.map((host) => `nats://${host}:${clientPort.get(host)}`).sort();
  for (const container of shop) {
    if (container.reads.has("SHOP_NATS_URL")) {
      const listed = (container.env.SHOP_NATS_URL ?? "")
        .split(",")
        .map((entry) => entry.trim())
        .sort();
      if (listed.join(",") !== cluster.join(","))
        problems.push(
          `${container.host}: SHOP_NATS_URL lists ${listed.join(",")}, not every node (${cluster.join(",")})`,
        );
    }
    if (container.reads.has("SHOP_NATS_URL") && container.env.SHOP_NATS_STREAM_REPLICAS !== String(nats.length)) {
      problems.push(
        `${container.host}: SHOP_NATS_STREAM_REPLICAS is ${container.env.SHOP_NATS_STREAM_REPLICAS ?? "unset"}, not ${nats.length}`,
      );
    }
  }
}

/** The path of a node's config file (`-c`), and where that file is in the checkout (the mount's source). */
function natsConfigFile(root: string, service: ComposeService, command: string[]): { path?: string; source?: string } {
  const path = flagValue(command, "-c", "--config");
  const mount = mountedVolumes(service).find((volume) => volume.target === path);
  const source = mount && /^\.{0,2}\//.test(mount.source) ? join(root, mount.source) : undefined;
  return { path, source };
}

/**
 * A node refuses clients without credentials: each service is a user of the generated authorization config, mounted
 * as it is committed and current, with the passwords from .env in the node's environment and none on its command line.
 * Routes take a password of their own, from .env too.
 */
function checkNatsAuth(
  root: string,
  host: string,
  service: ComposeService,
  vars: Env,
  routeCredentials: Map<string, string>,
  problems: string[],
): void {
  const raw = rawCommandOf(service);
  const command = raw.map((word) => interpolate(word, vars));
  if (["--user", "--pass", "--auth"].some((flag) => flagValue(command, flag) !== undefined)) {
    problems.push(`${host} takes a client password on its command line: clients are the users of its config file`);
  }
  const config = natsConfigFile(root, service, command);
  if (config.path === undefined) {
    problems.push(`${host} lets clients in without credentials: give it -c with the generated nats/authorization.conf`);
  } else if (config.source === undefined || !existsSync(config.source)) {
    problems.push(`${host} reads its config from ${config.path}, which no file of the checkout is mounted at`);
  } else if (readFileSync(config.source, "utf8") !== natsAuthorizationConfig()) {
    problems.push(
      `${host}'s config ${config.path} is not what \`npx tsx scripts/nats-users.ts --conf\` generates now: regenerate nats/authorization.conf`,
    );
  }
  const env = environmentOf(service);
  for (const name of natsServiceNames.map(natsPasswordVariable)) {
    if (!fromEnvFile(env[name])) problems.push(`${host} is not given ${name} from .env, which its config names`);
  }
  const own = routeCredentials.get(host) ?? "";
  if (!own.includes(":")) {
    problems.push(`${host} accepts routes without credentials: give its --cluster URL a route user and password`);
  } else {
    if (!fromEnvFile(flagValue(raw, "--cluster", "--cluster_listen"))) {
      problems.push(`${host}'s route password is written in the file; take it from .env as \${…:?…}`);
    }
    const clientPasswords = natsServiceNames.map((name) => interpolate(env[natsPasswordVariable(name)] ?? "", vars));
    if (clientPasswords.includes(own.slice(own.indexOf(":") + 1))) {
      problems.push(`${host}'s routes take a client's password: give routes a secret of their own`);
    }
  }
  for (const route of (flagValue(command, "--routes") ?? "").split(",").filter(Boolean)) {
    const other = urlTargets(route)[0]?.host ?? route;
    const expected = routeCredentials.get(other);
    if (expected !== undefined && userInfo(route) !== expected) {
      problems.push(`${host}'s route to ${other} does not carry the route credentials ${other} accepts`);
    }
  }
}

/** Every service that reads SHOP_NATS_URL connects as its own user, with the password the nodes give that user. */
function checkNatsClients(
  nats: string[],
  services: Record<string, ComposeService>,
  shop: ShopContainer[],
  vars: Env,
  problems: string[],
): void {
  const nodeEnv = environmentOf(services[nats[0] ?? ""] ?? {});
  for (const container of shop) {
    if (!container.reads.has("SHOP_NATS_URL")) continue;
    if (!isNatsServiceName(container.service)) {
      problems.push(
        `${container.host}: ${container.service} has no NATS user (services/platform/src/nats-permissions.ts)`,
      );
      continue;
    }
    const variable = natsPasswordVariable(container.service);
    const password = interpolate(nodeEnv[variable] ?? "", vars);
    if (
      container.env.SHOP_NATS_USER !== container.service ||
      password === "" ||
      container.env.SHOP_NATS_PASSWORD !== password
    ) {
      problems.push(
        `${container.host} is not given its NATS user: set SHOP_NATS_USER=${container.service} and SHOP_NATS_PASSWORD=\${${variable}:?…}`,
      );
    }
  }
}

/** Infrastructure probed the way its image can; every address reaching its target's port once it is healthy. */
function checkAddresses({ expected, services, shop, listens, problems }: Stack): void {
  // Infrastructure: each probed the way its image can, and reached on the port it listens on.
  for (const container of shop) if (container.port !== undefined) listens.set(container.host, container.port);
  const infrastructure: [RegExp, number, RegExp][] = [
    [/^postgres:/, 5432, /pg_isready/],
    [/^redis:/, 6379, /redis-cli.*ping/],
    [/^opensearchproject\/opensearch:/, 9200, /_cluster\/health/],
  ];
  for (const [host, service] of Object.entries(services)) {
    const known = infrastructure.find(([image]) => image.test(service.image ?? ""));
    if (known === undefined) continue;
    listens.set(host, known[1]);
    if (!known[2].test(healthcheckOf(service))) problems.push(`${host}'s healthcheck does not use ${known[2].source}`);
  }

  // Every address a container is given reaches a service on its port, and the caller waits until that one is healthy
  // (unless that one depends on the caller: the emulator posts webhooks to orders, which calls the emulator).
  for (const container of shop) {
    const deps = dependsOn(services[container.host] ?? {});
    for (const [name, value] of Object.entries(container.env)) {
      for (const { host, port } of urlTargets(value)) {
        if (!(host in services)) continue;
        if (listens.get(host) !== port)
          problems.push(
            `${container.host}: ${name} points at ${host}:${port}, but ${host} listens on ${listens.get(host)}`,
          );
        const reverse = dependsOn(services[host] ?? {}).has(container.host);
        if (!reverse && deps.get(host) !== "service_healthy") {
          problems.push(
            `${container.host} reaches ${host} (${name}) without depends_on ${host}: condition service_healthy`,
          );
        }
      }
    }
  }

  // The gateway is the one door, on the port npm start gives it.
  const gateway = shop.find((container) => container.service === "gateway");
  const gatewayPort = expected.find((service) => service.name === "gateway")?.defaultPort;
  if (gateway !== undefined && gatewayPort !== undefined) {
    const published = publishedPorts(services[gateway.host] ?? {});
    if (!published.some((port) => port.published === gatewayPort && port.target === gateway.port)) {
      problems.push(
        `${gateway.host} is not published as ${gatewayPort}:${gateway.port} (published: ${published.map((p) => `${p.published}:${p.target}`).join(", ") || "none"})`,
      );
    }
  }
}

/** The image compose builds: it runs the service SHOP_SERVICE names, and has what that needs installed. */
function dockerfileProblems(dockerfile: string, root: string): string[] {
  const problems: string[] = [];
  if (!existsSync(dockerfile)) return [`${dockerfile} does not exist`];
  const lines = readFileSync(dockerfile, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"));
  const cmd = lines.filter((line) => /^CMD\b/i.test(line.trim())).at(-1) ?? "";
  if (!/services\/\$\{?SHOP_SERVICE\b[^/]*\/src\/main\.ts/.test(cmd))
    problems.push("the Dockerfile's CMD does not run services/$SHOP_SERVICE/src/main.ts");
  const install = lines.findIndex((line) => /^RUN\b.*\bnpm (ci|install)\b/.test(line.trim()));
  if (install === -1) return [...problems, "the Dockerfile installs no dependencies (npm ci)"];
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    workspaces?: string[];
    dependencies?: Record<string, string>;
  };
  const withoutDev = /--omit[= ]dev|--production|--only[= ]prod/.test(lines[install] ?? "");
  if (/--import tsx\b/.test(cmd) && withoutDev && manifest.dependencies?.tsx === undefined) {
    problems.push("the Dockerfile installs without dev dependencies, but its CMD needs tsx, a dev dependency");
  }
  // npm ci in a workspace needs every workspace's manifest at hand.
  const copied = lines
    .slice(0, install)
    .filter((line) => /^COPY\b/.test(line.trim()))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1))
    .map((source) => source.replace(/^\.\/?/, "").replace(/\/$/, ""));
  const workspaces = (manifest.workspaces ?? []).flatMap((pattern) =>
    pattern.endsWith("/*")
      ? readdirSync(join(root, pattern.slice(0, -2))).map((entry) => `${pattern.slice(0, -2)}/${entry}`)
      : [pattern],
  );
  for (const workspace of workspaces.filter((dir) => existsSync(join(root, dir, "package.json")))) {
    const covered = copied.some(
      (source) => source === "" || source === `${workspace}/package.json` || `${workspace}/`.startsWith(`${source}/`),
    );
    if (!covered) problems.push(`the Dockerfile runs npm ci before it copies ${workspace}/package.json`);
  }
  const ignored = existsSync(join(root, ".dockerignore")) ? readFileSync(join(root, ".dockerignore"), "utf8") : "";
  if (!ignored.split("\n").some((line) => line.trim() === ".env" || line.trim() === "**/.env")) {
    problems.push(".dockerignore does not keep .env (the stack's secrets) out of the image");
  }
  return problems;
}

/** The variables the compose file requires from `.env` (`${NAME:?…}` anywhere in it), sorted. */
export function requiredComposeVariables(composeFile: string): string[] {
  const uses = interpolationsOf(readFileSync(composeFile, "utf8"));
  return [...new Set(uses.filter((use) => use.operator.endsWith("?")).map((use) => use.name))].sort();
}
