import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import type { Command } from "commander";
import { configPath, loadCliConfig, saveCliConfig } from "./cli-config.js";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { printJson } from "./output.js";

/** `shop login` and `shop config`: where the platform is and which key to use. */
export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("check an API key against the platform and store it with the endpoint (file mode 0600)")
    .option("--endpoint <url>", "platform URL (the gateway)")
    .option("--key <apiKey>", "API key; also read from SHOP_API_KEY")
    .action(async (options: { endpoint?: string; key?: string }) => {
      const current = await loadCliConfig();
      const endpoint = options.endpoint ?? current.endpoint;
      const apiKey = options.key ?? process.env.SHOP_API_KEY;
      if (!apiKey)
        throw new UsageError(
          "no key given: run `shop login --key sk_…` (an operator creates keys with `shop keys create`)",
        );
      const { client } = await createCliContext({ endpoint, apiKey });
      const who = await client.identity.whoAmI({});
      if (who.role === Role.PUBLIC)
        throw new UsageError("the platform does not know this key: check it, or ask an operator for a new one");
      const path = await saveCliConfig({ endpoint, apiKey });
      process.stdout.write(
        `logged in to ${endpoint} as ${Role[who.role].toLowerCase()} (key ${who.subject}); saved to ${path}\n`,
      );
    });

  const config = program.command("config").description("show or change the stored CLI configuration");
  config
    .command("get [name]")
    .description("print the effective configuration (the key is masked)")
    .option("--json", "print JSON")
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const effective = await loadCliConfig();
      const shown = {
        endpoint: effective.endpoint,
        apiKey: effective.apiKey ? `${effective.apiKey.slice(0, 16)}…` : "",
        path: configPath(),
      };
      if (name) {
        if (!(name in shown)) throw new UsageError(`unknown setting "${name}": use endpoint, apiKey or path`);
        process.stdout.write(`${shown[name as keyof typeof shown]}\n`);
      } else if (options.json) printJson(shown);
      else for (const [key, value] of Object.entries(shown)) process.stdout.write(`${key}\t${value}\n`);
    });
  config
    .command("set <name> <value>")
    .description("set endpoint or apiKey")
    .action(async (name: string, value: string) => {
      if (name !== "endpoint" && name !== "apiKey")
        throw new UsageError(`unknown setting "${name}": use endpoint or apiKey`);
      const path = await saveCliConfig({ [name]: value });
      process.stdout.write(`saved ${name} to ${path}\n`);
    });
}
