// `npm run bench` runs every benchmark; `npm run bench -- platform` runs one by name.
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dirname ?? new URL(".", import.meta.url).pathname;
const available = readdirSync(dir)
  .filter((file) => file.endsWith(".bench.ts"))
  .map((file) => file.replace(/\.bench\.ts$/, ""))
  .sort();
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(1);
}
for (const name of wanted.length > 0 ? wanted : available) {
  const module = (await import(join(dir, `${name}.bench.ts`))) as { default: () => Promise<void> };
  await module.default();
}
process.exit(0);
