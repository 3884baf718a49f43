import {
  type NatsPermissions,
  type NatsServiceName,
  natsPasswordVariable,
  natsPermissions,
  natsServiceNames,
} from "./nats-permissions.js";

/** One NATS user of the deployment: a service, its password's variable, and what it may do. */
export interface NatsServiceUser {
  user: NatsServiceName;
  passwordVariable: string;
  permissions: NatsPermissions;
}

/** Every service's NATS user in `namespace` (SHOP_NAMESPACE; the empty one in a deployment). */
export function natsServiceUsers(namespace = ""): NatsServiceUser[] {
  return natsServiceNames.map((service) => ({
    user: service,
    passwordVariable: natsPasswordVariable(service),
    permissions: natsPermissions(service, namespace),
  }));
}

/** A list of subjects, one a line so a change to one shows as one line in a diff. */
const subjectList = (key: string, subjects: string[]) => [
  `          ${key}: [`,
  ...subjects.map((subject) => `            ${JSON.stringify(subject)}`),
  "          ]",
];

function rule(name: string, { allow, deny }: { allow: string[]; deny: string[] }): string[] {
  const lists = [...subjectList("allow", allow), ...(deny.length > 0 ? subjectList("deny", deny) : [])];
  return [`        ${name}: {`, ...lists, "        }"];
}

/**
 * A nats-server `authorization` block with one user per service. Passwords are `$SHOP_NATS_<SERVICE>_PASSWORD`
 * references, which nats-server resolves from its environment when it reads the file, so no secret is in the file or
 * on a command line. Subjects are quoted: `$JS…` and `$KV…` are subjects there, not variables.
 */
export function natsAuthorizationConfig(namespace = ""): string {
  const users = natsServiceUsers(namespace).flatMap(({ user, passwordVariable, permissions }) => [
    "    {",
    `      user: ${user}`,
    `      password: $${passwordVariable}`,
    "      permissions: {",
    ...rule("publish", permissions.publish),
    ...rule("subscribe", permissions.subscribe),
    "      }",
    "    }",
  ]);
  const where = namespace === "" ? "a deployment (no SHOP_NAMESPACE)" : `SHOP_NAMESPACE=${namespace}`;
  return [
    `# Shop's NATS users, one per service, each allowed only what it does on NATS; for ${where}.`,
    "# Generated from services/platform/src/nats-permissions.ts by `npx tsx scripts/nats-users.ts --conf`: do not edit.",
    "authorization {",
    "  users = [",
    ...users,
    "  ]",
    "}",
    "",
  ].join("\n");
}
