// Each service's NATS user and what it may do, from services/platform/src/nats-permissions.ts:
//   npx tsx scripts/nats-users.ts [--namespace <ns>]           a table, one row per subject a user may use
//   npx tsx scripts/nats-users.ts [--namespace <ns>] --json    the same as JSON, for scripts
//   npx tsx scripts/nats-users.ts [--namespace <ns>] --conf    nats-server's `authorization` block (nats/authorization.conf)
// Passwords are never printed: the block names each as $SHOP_NATS_<SERVICE>_PASSWORD, which nats-server reads from
// its environment.
import { parseArgs } from "node:util";
import { isNamespace, natsAuthorizationConfig, natsServiceUsers } from "@shop/platform";
import { formatTable } from "../cli/src/output.js";

const usage = "usage: nats-users [--namespace <ns>] [--json | --conf]";
const options = {
  namespace: { type: "string", default: "" },
  json: { type: "boolean", default: false },
  conf: { type: "boolean", default: false },
} as const;
let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];
try {
  parsed = parseArgs({ options }).values;
} catch (err) {
  console.error(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}
const { namespace, json, conf } = parsed;
if (namespace !== "" && !isNamespace(namespace)) {
  console.error(`--namespace ${namespace}: lower-case letters, digits and underscores, as SHOP_NAMESPACE\n${usage}`);
  process.exit(2);
}
if (json && conf) {
  console.error(`--json and --conf are two different outputs: pick one\n${usage}`);
  process.exit(2);
}

if (conf) {
  process.stdout.write(natsAuthorizationConfig(namespace));
} else if (json) {
  console.log(JSON.stringify(natsServiceUsers(namespace), null, 2));
} else {
  const rows = natsServiceUsers(namespace).flatMap(({ user, permissions }) =>
    (["publish", "subscribe"] as const).flatMap((action) =>
      (["allow", "deny"] as const).flatMap((verdict) =>
        permissions[action][verdict].map((subject) => [user, action, verdict, subject]),
      ),
    ),
  );
  const column = (header: string, i: number) => ({ header, value: (row: string[]) => row[i] ?? "" });
  process.stdout.write(formatTable(rows, ["USER", "ACTION", "RULE", "SUBJECT"].map(column)));
}
