import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { type ApiKey, ApiKeySchema } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { type Column, messageJson, type OutputOptions, printJson, printRows } from "./output.js";

const roles: Record<string, Role> = { seller: Role.SELLER, operator: Role.OPERATOR, service: Role.SERVICE };
const roleWord = (role: Role) => (Role[role] ?? "unspecified").toLowerCase();
const date = (key: ApiKey, field: "createTime" | "revokeTime") => {
  const value = key[field];
  return value ? timestampDate(value).toISOString() : "";
};

const columns: Column<ApiKey>[] = [
  { header: "ID", value: (key) => key.id },
  { header: "NAME", value: (key) => key.displayName },
  { header: "ROLE", value: (key) => roleWord(key.role) },
  { header: "CREATED", value: (key) => date(key, "createTime") },
  { header: "REVOKED", value: (key) => date(key, "revokeTime") },
];

/** `shop keys …`: API keys, for operators. A key's secret is shown once, at creation. */
export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("create, list and revoke API keys (operators)");

  keys
    .command("create")
    .description("create an API key; its secret is printed once and never stored")
    .requiredOption("--name <name>", "who or what the key is for, e.g. 'Acme shop'")
    .option("--role <role>", "seller, operator or service", "seller")
    .option("--json", "print JSON")
    .action(async (options: OutputOptions & { name: string; role: string }) => {
      const role = roles[options.role];
      if (role === undefined) throw new UsageError(`role "${options.role}" must be seller, operator or service`);
      const { client } = await createCliContext();
      const { apiKey, secret } = await client.identity.createApiKey({ displayName: options.name, role });
      if (options.json) return printJson({ apiKey: apiKey ? messageJson(ApiKeySchema, apiKey) : null, secret });
      process.stdout.write(`created ${roleWord(role)} key ${apiKey?.id} for "${options.name}"\n`);
      process.stdout.write(`secret (shown this once; store it now):\n  ${secret}\n`);
      process.stdout.write(`use it with: shop login --key ${secret}\n`);
    });

  keys
    .command("list")
    .description("list API keys (not their secrets)")
    .option("--all", "include revoked keys")
    .option("--json", "print JSON")
    .action(async (options: OutputOptions & { all?: boolean }) => {
      const { client } = await createCliContext();
      const { apiKeys } = await client.identity.listApiKeys({ includeRevoked: options.all ?? false });
      printRows(options, apiKeys, columns, (key) => messageJson(ApiKeySchema, key));
    });

  keys
    .command("revoke <id>")
    .description("revoke an API key; every service refuses it within moments")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions) => {
      const { client } = await createCliContext();
      const key = await client.identity.revokeApiKey({ id });
      if (options.json) printJson(messageJson(ApiKeySchema, key));
      else process.stdout.write(`revoked ${key.id} (${key.displayName})\n`);
    });
}
