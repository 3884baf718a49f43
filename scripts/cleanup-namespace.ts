// Removes everything a namespace left on the local servers: `npx tsx scripts/cleanup-namespace.ts <namespace>`.
// For manual runs of `npm start` with SHOP_NAMESPACE set (schema, streams and Redis keys named after it).
import { isNamespace } from "@shop/platform";
import { cleanupNamespace, locateTestServers } from "@shop/platform/testing";

const namespace = process.argv[2];
if (!namespace || !isNamespace(namespace)) {
  console.error("usage: cleanup-namespace <namespace>  (as SHOP_NAMESPACE: lower-case letters, digits, underscores)");
  process.exit(1);
}
await cleanupNamespace(await locateTestServers(), namespace);
console.log(`removed the schema, streams and Redis keys of ${namespace}`);
