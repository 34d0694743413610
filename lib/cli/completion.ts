/** `loopauth completion`. @module */
import { LoopauthError } from "../core/errors.ts";
import { type Command, helpFlag, parseFlags } from "./command.ts";
import type { FlagSpec } from "./parse_args.ts";

/** A subcommand as completion sees it. */
export interface CompletionEntry {
  /** Subcommand name. */
  name: string;
  /** One-line summary. */
  summary: string;
  /** Its flags, long form with dashes. */
  flags: string[];
  /** The one-letter alias of a flag (`--hostname`: `h`), where the shell offers them (fish). */
  shorts?: Record<string, string>;
  /** The values a flag takes (`--storage`: keyring, file, …). */
  values?: Record<string, string[]>;
  /** The words its first argument takes (`agent start|stop|status`). */
  subcommands?: string[];
}

/**
 * What completion offers for a command, read from its flag table (the one
 * its parser reads): every flag but hidden ones, `--help`, the values of a
 * flag that takes only some, and the words of its first argument.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completionEntry } from "./completion.ts";
 * const entry = completionEntry("doctor", "Check a host", {
 *   name: "doctor",
 *   help: "",
 *   flags: {
 *     storage: { type: "string", values: ["keyring", "file"] },
 *     waiter: { type: "boolean", hidden: true },
 *   },
 *   run: () => Promise.resolve(0),
 * });
 * assert.deepEqual(entry.flags, ["--storage", "--help"]);
 * assert.deepEqual(entry.values, { "--storage": ["keyring", "file"] });
 * ```
 */
export function completionEntry(name: string, summary: string, command: Command): CompletionEntry {
  const table = command.flags ?? {};
  const entry: CompletionEntry = { name, summary, flags: [], shorts: {}, values: {} };
  for (const [flag, spec] of Object.entries<FlagSpec>({ ...table, help: helpFlag(table) })) {
    if (spec.hidden) continue;
    entry.flags.push(`--${flag}`);
    if (spec.short) entry.shorts![`--${flag}`] = spec.short;
    if (spec.values) entry.values![`--${flag}`] = [...spec.values];
  }
  if (command.subcommands?.length) entry.subcommands = [...command.subcommands];
  return entry;
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
        const short = e.shorts?.[flag];
        lines.push(
          `complete -c loopauth -n '__fish_seen_subcommand_from ${e.name}' -l ${flag.slice(2)}${
            short ? ` -s ${short}` : ""
          }${values ? ` -x -a ${quote(values.join(" "))}` : ""}`,
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

/** The shells `completion` writes a script for: its one argument. */
const SHELLS = ["bash", "zsh", "fish", "powershell"] as const;

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
  subcommands: SHELLS,
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
      entries.push(completionEntry(name, summary, (await load()).command));
    }
    entries.push({
      name: "help",
      summary: "Show help for a command",
      flags: [],
      subcommands: Object.keys(context.commands ?? {}),
    });
    console.log(completionScript(positionals[0], entries).trimEnd());
    return 0;
  },
};
