// `npm start`: runs every service of the platform on this machine as child processes, without Docker.
// Needs PostgreSQL, Redis and NATS (JetStream) on their local default ports, or SHOP_DATABASE_URL/SHOP_REDIS_URL/
// SHOP_NATS_URL pointing elsewhere. The first run creates an operator API key and prints it once, the token keys and
// one API key of role service per service (kept in .shop-data/, git-ignored). It runs services in development mode.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = process.env.SHOP_DATA_DIR ?? join(root, ".shop-data");

/** Start order matters: products hosts the API keys, the gateway goes last. */
const portOf = (name: string, fallback: number) => Number(process.env[`SHOP_${name.toUpperCase()}_PORT`] ?? fallback);
const knownServices = [
  { name: "products", port: portOf("products", 8081) },
  { name: "inventory", port: portOf("inventory", 8083) },
  { name: "search", port: portOf("search", 8082) },
  // Stripe as the orders service sees it: the local emulator (no network needed), before orders.
  { name: "stripe-emulator", port: portOf("stripe_emulator", 12111) },
  { name: "orders", port: portOf("orders", 8084) },
  { name: "gateway", port: portOf("gateway", 8080) },
].filter((service) => existsSync(join(root, "services", service.name, "src", "main.ts")));
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

const children = new Map<string, ChildProcess>();
let stopping = false;

function prefixLines(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) {
  const lines = createInterface({ input: stream });
  lines.on("line", (line) => {
    let text = line;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const level = entry.level && entry.level >= 50 ? "ERROR " : entry.level && entry.level >= 40 ? "WARN " : "";
      text = `${level}${entry.msg ?? line}${entry.err?.message ? `: ${entry.err.message}` : ""}`;
    } catch {}
    out.write(`[${name.padEnd(9)}] ${text}\n`);
  });
}

async function waitReady(name: string, port: number, timeoutMs = 60_000, path = "/readyz"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!children.has(name)) throw new Error(`${name} exited during start; see its log lines above`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}${path}`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} was not ready on port ${port} after ${timeoutMs / 1000} s`);
}

function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) child.kill("SIGTERM");
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill("SIGKILL");
    process.exit(code);
  }, 15_000);
  force.unref();
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      process.exit(code);
    }
  }, 100);
}

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

/** Starts one child of the stack and waits until it answers `readyPath`; any child exiting stops them all. */
async function launch(
  name: string,
  port: number,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; readyPath?: string },
): Promise<void> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.set(name, child);
  prefixLines(name, child.stdout, process.stdout);
  prefixLines(name, child.stderr, process.stderr);
  child.on("exit", (code, signal) => {
    children.delete(name);
    if (!stopping) {
      process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the stack\n`);
      stopAll(1);
    }
  });
  try {
    await waitReady(name, port, 60_000, options.readyPath);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    stopAll(1);
    await new Promise(() => undefined);
  }
}

for (const service of services) {
  await launch(service.name, service.port, ["--import", "tsx", join("services", service.name, "src", "main.ts")], {
    cwd: root,
    env: {
      ...upstreams,
      ...process.env,
      ...sharedEnv,
      SHOP_SERVICE_KEY: serviceKeys.get(service.name) ?? "",
      SHOP_PORT: String(service.port),
      ...ownEnv[service.name],
    },
  });
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
if (gateway !== undefined && storefront !== undefined) {
  const vite = join(root, "node_modules", "vite", "bin", "vite.js");
  await launch("storefront", storefront.port, [vite, "--port", String(storefront.port), "--strictPort"], {
    cwd: storefrontDir,
    env: { ...process.env, VITE_SHOP_GATEWAY: `http://127.0.0.1:${gateway.port}` },
    readyPath: "/",
  });
}
process.stdout.write(`\nShop is running: ${services.map((s) => `${s.name} :${s.port}`).join(", ")}\n`);
if (gateway) process.stdout.write(`Gateway (use this endpoint): http://127.0.0.1:${gateway.port}\n`);
if (storefront) process.stdout.write(`Storefront (open it in a browser): http://127.0.0.1:${storefront.port}\n`);
if (operatorKey.created)
  process.stdout.write(
    `Operator API key (shown once, kept in ${join(dataDir, "operator-key")}):\n  ${operatorKey.value}\n`,
  );
else process.stdout.write(`Operator API key: in ${join(dataDir, "operator-key")}\n`);
process.stdout.write(
  `Token keys and service keys (development mode): in ${join(dataDir, "token-keys")} and ${join(dataDir, "service-keys")}/\n`,
);
if (services.some((service) => service.name === "orders")) {
  process.stdout.write(
    process.env.SHOP_SMTP_URL
      ? `Order emails: sent through ${new URL(process.env.SHOP_SMTP_URL).host}\n`
      : `Order emails (.eml files): in ${mailOutboxDir}/\n`,
  );
}
process.stdout.write(
  `Log in with: npx shop login --endpoint http://127.0.0.1:${gateway?.port ?? 8080} --key "$(cat ${join(dataDir, "operator-key")})"\n`,
);
