// `npm start`: runs every service of the platform on this machine as child processes, without Docker. PostgreSQL,
// NATS and Redis come from SHOP_DATABASE_URL/SHOP_NATS_URL/SHOP_REDIS_URL, else from what answers on their local
// ports, else the launcher starts them (scripts/stack/local-servers.ts): PostgreSQL embedded (PGlite), nats-server and
// redis-server from the PATH. The first run creates an operator API key and prints it once, the token keys and one
// API key of role service per service, a seller key, and imports the sample catalog as that seller (all kept in
// .shop-data/, git-ignored). It runs services in development mode, and stops everything it started on Ctrl-C, on
// SIGTERM, and when the process that started it (npm) goes away.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createChildSupervisor, isStackStoppingError } from "./stack/child-supervisor.js";
import { type ServerName, serversOf, startLocalServers } from "./stack/local-servers.js";
import { type Seed, seedSampleCatalog } from "./stack/sample-catalog-seed.js";
import { repoRoot, stackServices } from "./stack/stack-services.js";

const root = repoRoot;
const dataDir = process.env.SHOP_DATA_DIR ?? join(root, ".shop-data");

const portOf = (name: string, fallback: number) => Number(process.env[`SHOP_${name.toUpperCase()}_PORT`] ?? fallback);
const knownServices = stackServices.map((service) => ({
  name: service.name,
  port: portOf(service.name.replaceAll("-", "_"), service.defaultPort),
}));
// SHOP_SERVICES=products,gateway runs a subset, e.g. while another service runs elsewhere or under a debugger.
const services = knownServices.filter(
  (service) => !process.env.SHOP_SERVICES || process.env.SHOP_SERVICES.split(",").includes(service.name),
);

/** A secret kept in .shop-data so restarts keep the same operator key, token keys and service keys. */
function persistentSecret(file: string, make: () => string): { value: string; created: boolean } {
  const path = join(dataDir, file);
  if (existsSync(path)) return { value: readFileSync(path, "utf8").trim(), created: false };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}

const newApiKey = () => {
  const id = createHash("sha256").update(randomBytes(16)).digest("hex").slice(0, 12);
  return `sk_${id}_${randomBytes(32).toString("base64url")}`;
};
const operatorKey = persistentSecret("operator-key", newApiKey);
// SHOP_TOKEN_KEYS as the services read it; to rotate, put a new `kid:secret` first in the file and keep the old second.
const tokenKeys = persistentSecret("token-keys", () => `local-1:${randomBytes(48).toString("base64url")}`);
// Each service calls others as itself (role service); every service knows every caller's key. The gateway forwards
// its callers' credentials and has none of its own.
const serviceKeys = new Map(
  knownServices
    .filter((service) => service.name !== "gateway" && service.name !== "stripe-emulator")
    .map((service) => [service.name, persistentSecret(join("service-keys", service.name), newApiKey).value]),
);

// The gateway finds each service where this launcher put it (SHOP_<NAME>_PORT moves one); SHOP_UPSTREAM_* wins.
const upstreams = Object.fromEntries(
  services
    .filter((s) => s.name !== "gateway" && s.name !== "stripe-emulator")
    .map((s) => [`SHOP_UPSTREAM_${s.name.toUpperCase()}`, `http://127.0.0.1:${s.port}`]),
);

// The emulator's API key and the orders webhook's signing secret, shared by the two as with Stripe itself.
const stripeSecretKey = persistentSecret("stripe-secret-key", () => `sk_test_${randomBytes(24).toString("hex")}`);
const stripeWebhookSecret = persistentSecret("stripe-webhook-secret", () => `whsec_${randomBytes(24).toString("hex")}`);
// Order emails as .eml files (nodemailer's stream transport) unless SHOP_SMTP_URL names an SMTP server.
const mailOutboxDir = process.env.SHOP_MAIL_OUTBOX_DIR ?? join(dataDir, "mail-outbox");
const portOfService = (name: string) => knownServices.find((service) => service.name === name)?.port ?? 0;
const ownEnv: Record<string, Record<string, string>> = {
  "stripe-emulator": {
    SHOP_STRIPE_EMULATOR_SECRET_KEY: stripeSecretKey.value,
    SHOP_STRIPE_EMULATOR_PORT: String(portOfService("stripe-emulator")),
    SHOP_STRIPE_EMULATOR_WEBHOOKS: `${stripeWebhookSecret.value}@http://127.0.0.1:${portOfService("orders")}/webhooks/stripe`,
  },
  orders: {
    SHOP_STRIPE_SECRET_KEY: stripeSecretKey.value,
    SHOP_STRIPE_WEBHOOK_SECRET: stripeWebhookSecret.value,
    SHOP_STRIPE_API_URL: `http://127.0.0.1:${portOfService("stripe-emulator")}`,
    SHOP_MAIL_OUTBOX_DIR: mailOutboxDir,
  },
};

const sharedEnv: Record<string, string> = {
  // Development mode, backed by persisted keys: every service of this stack signs and checks tokens alike.
  SHOP_DEV_MODE: "1",
  SHOP_TOKEN_KEYS: tokenKeys.value,
  SHOP_STATIC_API_KEYS: [
    `operator:${operatorKey.value}`,
    ...[...serviceKeys.values()].map((key) => `service:${key}`),
    process.env.SHOP_STATIC_API_KEYS,
  ]
    .filter(Boolean)
    .join(","),
  SHOP_SEARCH_SNAPSHOT_DIR: join(dataDir, "search"),
};

/** The parent of a process whose command is a shell (npm's `sh -c`); undefined otherwise or where `ps` is missing. */
function parentOf(pid: number): number | undefined {
  try {
    const [parent, command] = execFileSync("ps", ["-o", "ppid=,comm=", "-p", String(pid)], { encoding: "utf8" })
      .trim()
      .split(/\s+/);
    return command && /^(.*\/)?(sh|bash|dash|zsh)$/.test(command) ? Number(parent) : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const supervisor = createChildSupervisor();
process.on("SIGINT", () => supervisor.stopAll(0));
process.on("SIGTERM", () => supervisor.stopAll(0));
// `kill <npm's pid>` ends npm without passing the signal on to this process: its parent (npm, or the `sh -c` npm ran
// it in, which dies with npm) goes away and another process adopts this one. Under `sh -c`, npm itself is watched
// too, for when the shell outlives it.
const parentAtStart = process.ppid;
const npmPid = process.env.npm_lifecycle_event ? parentOf(parentAtStart) : undefined;
setInterval(() => {
  if (process.ppid !== parentAtStart || (npmPid !== undefined && !isRunning(npmPid))) supervisor.stopAll(0);
}, 500).unref();

/** Starts one child of the stack and waits until it answers `readyPath`. */
async function launch(
  name: string,
  port: number,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; readyPath?: string },
): Promise<void> {
  supervisor.start(name, process.execPath, args, { cwd: options.cwd, env: options.env });
  const timeoutMs = 60_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!supervisor.running(name)) throw new Error(`${name} exited during start; see its log lines above`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}${options.readyPath ?? "/readyz"}`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} was not ready on port ${port} after ${timeoutMs / 1000} s`);
}

const gateway = services.find((service) => service.name === "gateway");
// The example storefront (examples/storefront) on Vite's dev server, calling the gateway from the browser through
// its CORS; SHOP_STOREFRONT_PORT moves it, and SHOP_SERVICES runs it only when it names "storefront".
const storefrontDir = join(root, "examples", "storefront");
const storefront =
  gateway !== undefined &&
  existsSync(join(storefrontDir, "vite.config.ts")) &&
  (!process.env.SHOP_SERVICES || process.env.SHOP_SERVICES.split(",").includes("storefront"))
    ? { port: portOf("storefront", 5173) }
    : undefined;

async function startStack(): Promise<{ servers: string[]; seed: Seed | undefined }> {
  const needs = new Set<ServerName>(services.flatMap((service) => serversOf[service.name] ?? []));
  const servers = await startLocalServers(supervisor, { dataDir, needs });
  for (const service of services) {
    await launch(service.name, service.port, ["--import", "tsx", join("services", service.name, "src", "main.ts")], {
      cwd: root,
      env: {
        ...upstreams,
        ...process.env,
        ...servers.env,
        ...sharedEnv,
        SHOP_SERVICE_KEY: serviceKeys.get(service.name) ?? "",
        SHOP_PORT: String(service.port),
        ...ownEnv[service.name],
      },
    });
  }
  if (gateway !== undefined && storefront !== undefined) {
    const vite = join(root, "node_modules", "vite", "bin", "vite.js");
    await launch("storefront", storefront.port, [vite, "--port", String(storefront.port), "--strictPort"], {
      cwd: storefrontDir,
      env: { ...process.env, VITE_SHOP_GATEWAY: `http://127.0.0.1:${gateway.port}` },
      readyPath: "/",
    });
  }
  // The seed goes through the gateway to products, as a person's import does.
  // SHOP_SAMPLE_CATALOG=0 starts with an empty catalog (a test that counts its own products, a real shop).
  const seeds =
    process.env.SHOP_SAMPLE_CATALOG !== "0" &&
    gateway !== undefined &&
    services.some((service) => service.name === "products");
  const seed = seeds
    ? await seedSampleCatalog(supervisor, {
        dataDir,
        gatewayUrl: `http://127.0.0.1:${gateway.port}`,
        operatorKey: operatorKey.value,
      })
    : undefined;
  return { servers: servers.summary, seed };
}

const { servers, seed } = await startStack().catch((err: unknown) => {
  if (!isStackStoppingError(err)) {
    process.stderr.write(`\n${(err as Error).message}\n`);
    supervisor.stopAll(1);
  }
  // stopAll ends the process once everything has stopped.
  return new Promise<never>(() => undefined);
});
const lines = [`\nShop is running: ${services.map((s) => `${s.name} :${s.port}`).join(", ")}`];
if (gateway) lines.push(`Gateway (use this endpoint): http://127.0.0.1:${gateway.port}`);
if (storefront) lines.push(`Storefront (open it in a browser): http://127.0.0.1:${storefront.port}`);
if (services.some((service) => service.name === "orders")) {
  lines.push(
    process.env.SHOP_SMTP_URL
      ? `Order emails: sent through ${new URL(process.env.SHOP_SMTP_URL).host}`
      : `Order emails (.eml files): in ${mailOutboxDir}/`,
  );
}
lines.push(...servers);
if (seed?.imported)
  lines.push(`Sample catalog (examples/sample-catalog.csv), imported as the sample seller: ${seed.imported}`);
if (seed) lines.push(`Seller API key (the sample seller; kept in ${seed.sellerKeyPath}):`, `  ${seed.sellerKey}`);
if (operatorKey.created)
  lines.push(`Operator API key (shown once, kept in ${join(dataDir, "operator-key")}):`, `  ${operatorKey.value}`);
else lines.push(`Operator API key: in ${join(dataDir, "operator-key")}`);
lines.push(
  `Token keys and service keys (development mode): in ${join(dataDir, "token-keys")} and ${join(dataDir, "service-keys")}/`,
  `Log in with: npx shop login --endpoint http://127.0.0.1:${gateway?.port ?? 8080} --key "$(cat ${seed?.sellerKeyPath ?? join(dataDir, "operator-key")})"`,
);
process.stdout.write(`${lines.join("\n")}\n`);
