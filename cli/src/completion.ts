import type { Command } from "commander";
import { UsageError } from "./cli-errors.js";

function commandWords(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => [[...prefix, sub.name()], ...commandWords(sub, [...prefix, sub.name()])]);
}

/** `shop completion bash|zsh`: prints a completion script built from the command tree, so it never goes stale. */
export function registerCompletion(program: Command): void {
  program
    .command("completion <shell>")
    .description("print a completion script: `source <(shop completion bash)`")
    .action((shell: string) => {
      const paths = commandWords(program);
      const cases = new Map<string, string[]>();
      for (const path of paths) {
        const parent = path.slice(0, -1).join(" ");
        cases.set(parent, [...(cases.get(parent) ?? []), path[path.length - 1] as string]);
      }
      const bashCases = [...cases]
        .map(([parent, words]) => `    "${parent}") words="${words.join(" ")}" ;;`)
        .join("\n");
      const script = `_shop_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" words=""
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ "\${COMP_WORDS[i]}" == -* ]] && continue
    path="\${path:+$path }\${COMP_WORDS[i]}"
  done
  case "$path" in
${bashCases}
  esac
  COMPREPLY=( $(compgen -W "$words --json --help" -- "$cur") )
}
`;
      if (shell === "bash") process.stdout.write(`${script}complete -F _shop_complete shop\n`);
      else if (shell === "zsh")
        process.stdout.write(`autoload -U +X bashcompinit && bashcompinit\n${script}complete -F _shop_complete shop\n`);
      else throw new UsageError(`unsupported shell "${shell}": use bash or zsh`);
    });
}
