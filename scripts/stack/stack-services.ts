// What `npm start` runs, in start order, and on which port: read by the launcher and by the test that checks
// docker-compose.yml runs the same services. Products hosts the API keys and goes first; the gateway goes last.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface StackService {
  /** The folder under services/ and the SHOP_SERVICE value of the Docker image. */
  name: string;
  /** Port on the local stack; SHOP_<NAME>_PORT moves it. */
  defaultPort: number;
}

export const stackServices: StackService[] = [
  { name: "products", defaultPort: 8081 },
  { name: "inventory", defaultPort: 8083 },
  { name: "search", defaultPort: 8082 },
  // Stripe as the orders service sees it: the local emulator (no network needed), before orders.
  { name: "stripe-emulator", defaultPort: 12111 },
  { name: "orders", defaultPort: 8084 },
  { name: "gateway", defaultPort: 8080 },
].filter((service) => existsSync(join(repoRoot, "services", service.name, "src", "main.ts")));
