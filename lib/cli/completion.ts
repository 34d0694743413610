/** `loopauth completion`. @module */
import { LoopauthError } from "../core/errors.ts";
import { type Command, parseFlags } from "./command.ts";

/** A subcommand as completion sees it. */
export interface CompletionEntry {
  /** Subcommand name. */
  name: string;
  /** One-line summary. */
  summary: string;
  /** Its flags, long form with dashes. */
  flags: string[];
  /** The values a flag takes, when its help lists them (`--storage keyring|file`). */
  values?: Record<string, string[]>;
  /** The words its first argument takes (`agent start|stop|status`). */
  subcommands?: string[];
}

/**
 * The long flags a help text documents (help texts are the single source
 * of truth for flags shown to people, so completion reads them too).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagsFromHelp } from "./completion.ts";
 * assert.deepEqual(flagsFromHelp("Flags:\n  --hostname HOST  the host"), ["--hostname", "--help"]);
 * ```
 */
export function flagsFromHelp(help: string): string[] {
  const flags = help.match(/(?<![\w-])--[a-z][a-z-]*/g) ?? [];
  return [...new Set([...flags, "--help"])];
}

/**
 * The flags completion offers for a command: those of its flag table that
 * its help documents (so neither an internal flag nor another command's flag
 * named in the help's prose), and `--help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { offeredFlags } from "./completion.ts";
 * const command = {
 *   name: "token",
 *   help: "Flags:\n  -h, --hostname HOST  the host (see login --with-token)",
 *   flags: { hostname: { type: "string" }, waiter: { type: "boolean" } },
 *   run: () => Promise.resolve(0),
 * } as const;
 * assert.deepEqual(offeredFlags(command), ["--hostname", "--help"]);
 * ```
 */
export function offeredFlags(command: Command): string[] {
  const table = Object.keys(command.flags ?? {}).map((name) => `--${name}`);
  const documented = flagsFromHelp(command.help);
  return [...table.filter((flag) => documented.includes(flag)), "--help"];
}

/**
 * The values of flags a help text lists as `--flag a|b|c`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagValuesFromHelp } from "./completion.ts";
 * assert.deepEqual(flagValuesFromHelp("Usage: x [--storage keyring|file]"), {
 *   "--storage": ["keyring", "file"],
 * });
 * ```
 */
export function flagValuesFromHelp(help: string): Record<string, string[]> {
  const values: Record<string, string[]> = {};
  const listed = /(?<![\w-])(--[a-z][a-z-]*) ([a-z][\w:-]*(?:\|[a-z][\w:-]*)+)/g;
  for (const [, flag, list] of help.matchAll(listed)) {
    values[flag] = [...new Set([...(values[flag] ?? []), ...list.split("|")])];
  }
  return values;
}

/**
 * The words a subcommand's first argument takes, from the usage and example
 * lines of its help (`loopauth agent start …`, `loopauth completion bash|zsh`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subcommandsFromHelp } from "./completion.ts";
 * const help = "Usage: loopauth agent start [--ttl D]\n       loopauth agent stop";
 * assert.deepEqual(subcommandsFromHelp("agent", help), ["start", "stop"]);
 * ```
 */
export function subcommandsFromHelp(name: string, help: string): string[] {
  const line = new RegExp(`^(?:Usage:)?\\s*loopauth ${name} ([a-z][\\w|-]*)(?=\\s|$)`, "gm");
  return [...new Set([...help.matchAll(line)].flatMap(([, words]) => words.split("|")))];
}

/**
 * PowerShell's native argument completer: subcommands (with their
 * summaries as tooltips), then each subcommand's flags.
 */
function powershellScript(entries: CompletionEntry[]): string {
  // A single-quoted PowerShell string: a quote inside is written twice.
  const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const flags = entries.map((e) => `    ${quote(e.name)} = @(${e.flags.map(quote).join(", ")})`)
    .join("\n");
  const summaries = entries.map((e) => `    ${quote(e.name)} = ${quote(e.summary)}`).join("\n");
  return `# loopauth completion for PowerShell: loopauth completion powershell | Out-String | Invoke-Expression
# (add that line to your $PROFILE)
Register-ArgumentCompleter -Native -CommandName 'loopauth', 'loopauth.exe', 'loopauth.cmd' -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $flags = @{
${flags}
  }
  $summaries = @{
${summaries}
  }
  $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
  if ($words.Count -le 1 -or ($words.Count -eq 2 -and $wordToComplete -ne '')) {
    $flags.Keys | Sort-Object | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
      [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $summaries[$_])
    }
    return
  }
  $known = $flags[$words[1]]
  if ($known) {
    $known | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
      [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterName', $_)
    }
  }
}
`;
}

/**
 * A completion script for bash, zsh, fish or PowerShell.
 *
 * @example
 * ```ts
 * import { completionScript } from "./completion.ts";
 * completionScript("bash", [{ name: "token", summary: "Print the token", flags: ["--hostname"] }]);
 * ```
 */
export function completionScript(shell: string, entries: CompletionEntry[]): string {
  const names = entries.map((e) => e.name).join(" ");
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  // A flag's values after it (`--storage `), a subcommand's words as its first argument.
  const valued = entries.flatMap((e) =>
    Object.entries(e.values ?? {}).map(([flag, values]) => ({ name: e.name, flag, values }))
  );
  const nested = entries.filter((e) => e.subcommands?.length);
  if (shell === "bash") {
    const cases = entries.map((e) => `    ${e.name}) words="${e.flags.join(" ")}" ;;`).join("\n");
    const valueCases = valued.map(({ name, flag, values }) =>
      `    "${name} ${flag}") COMPREPLY=($(compgen -W "${values.join(" ")}" -- "$cur")); return ;;`
    ).join("\n");
    const subCases = nested.map((e) =>
      `      ${e.name}) COMPREPLY=($(compgen -W "${
        e.subcommands!.join(" ")
      }" -- "$cur")); return ;;`
    ).join("\n");
    return `# loopauth completion for bash: eval "$(loopauth completion bash)"
_loopauth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]} $prev" in
${valueCases}
  esac
  if [ "$COMP_CWORD" -eq 2 ] && [ "\${cur#-}" = "$cur" ]; then
    case "\${COMP_WORDS[1]}" in
${subCases}
    esac
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _loopauth loopauth
`;
  }
  if (shell === "zsh") {
    const commands = entries.map((e) => quote(`${e.name}:${e.summary}`)).join(" ");
    const cases = entries.map((e) => `    ${e.name}) compadd -- ${e.flags.join(" ")} ;;`).join(
      "\n",
    );
    const valueCases = valued.map(({ name, flag, values }) =>
      `    "${name} ${flag}") compadd -- ${values.join(" ")}; return ;;`
    ).join("\n");
    const subCases = nested.map((e) =>
      `      ${e.name}) compadd -- ${e.subcommands!.join(" ")}; return ;;`
    ).join("\n");
    return `#compdef loopauth
# loopauth completion for zsh: eval "$(loopauth completion zsh)"
_loopauth() {
  if (( CURRENT == 2 )); then
    local -a commands
    commands=(${commands})
    _describe 'command' commands
    return
  fi
  case "\${words[2]} \${words[CURRENT-1]}" in
${valueCases}
  esac
  if (( CURRENT == 3 )) && [[ \${words[CURRENT]} != -* ]]; then
    case \${words[2]} in
${subCases}
    esac
  fi
  case \${words[2]} in
${cases}
  esac
}
compdef _loopauth loopauth
`;
  }
  if (shell === "fish") {
    const lines = [
      "# loopauth completion for fish: loopauth completion fish | source",
      "complete -c loopauth -f",
    ];
    for (const e of entries) {
      lines.push(
        `complete -c loopauth -n __fish_use_subcommand -a ${e.name} -d ${quote(e.summary)}`,
      );
      for (const flag of e.flags) {
        const values = e.values?.[flag];
        lines.push(
          `complete -c loopauth -n '__fish_seen_subcommand_from ${e.name}' -l ${flag.slice(2)}${
            values ? ` -x -a ${quote(values.join(" "))}` : ""
          }`,
        );
      }
      if (e.subcommands?.length) {
        const words = e.subcommands.join(" ");
        lines.push(
          `complete -c loopauth -n ${
            quote(
              `__fish_seen_subcommand_from ${e.name}; and not __fish_seen_subcommand_from ${words}`,
            )
          } -a ${quote(words)}`,
        );
      }
    }
    return `${lines.join("\n")}\n`;
  }
  if (shell === "powershell") return powershellScript(entries);
  throw new LoopauthError("usage", `Unknown shell "${shell}": use bash, zsh, fish or powershell`);
}

/**
 * The `completion` subcommand; `context.commands` lists the subcommands.
 *
 * @example
 * ```ts
 * import { command } from "./completion.ts";
 * await command.run(["bash"], { signal: new AbortController().signal, commands: {} });
 * ```
 */
export const command: Command = {
  name: "completion",
  help: `Print a shell completion script.

Usage: loopauth completion bash|zsh|fish|powershell

Examples:
  eval "$(loopauth completion bash)"      # in ~/.bashrc
  eval "$(loopauth completion zsh)"       # in ~/.zshrc
  loopauth completion fish > ~/.config/fish/completions/loopauth.fish
  loopauth completion powershell | Out-String | Invoke-Expression   # in $PROFILE`,
  async run(argv, context) {
    const { positionals } = parseFlags(argv, {}, { command: "completion", positionals: true });
    if (positionals.length !== 1) {
      throw new LoopauthError(
        "usage",
        "loopauth completion takes one shell: bash, zsh, fish or powershell",
      );
    }
    const entries: CompletionEntry[] = [];
    for (const [name, { summary, load }] of Object.entries(context.commands ?? {})) {
      const { command } = await load();
      entries.push({
        name,
        summary,
        flags: offeredFlags(command),
        values: flagValuesFromHelp(command.help),
        subcommands: subcommandsFromHelp(name, command.help),
      });
    }
    entries.push({ name: "help", summary: "Show help for a command", flags: [] });
    console.log(completionScript(positionals[0], entries).trimEnd());
    return 0;
  },
};
