/** `loopauth setup-git`. @module */
import { LoopauthError } from "../core/errors.ts";
import { type GitHubHost, resolveGitHubHost } from "../providers/github_host.ts";
import { storedHost } from "../ops/token.ts";
import { readConfig } from "../store/config.ts";
import { configDir } from "../store/paths.ts";
import { type Command, flagHelp, type Flags, HOSTNAME_FLAG, parseFlags } from "./command.ts";
import { helperCommand, helperFacts } from "./self_command.ts";

/** The flags of `setup-git` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  hostname: {
    ...HOSTNAME_FLAG.hostname,
    description: "only this host (default: every host you are logged in to)",
  },
  json: {
    type: "boolean",
    description: 'print what was configured as JSON: [{"host", "origin", "helper"}]',
  },
} as const satisfies Flags;

/**
 * The `setup-git` subcommand: makes git ask loopauth for credentials.
 *
 * @example
 * ```ts ignore
 * import { command } from "./setup_git.ts";
 * await command.run(["--hostname", "github.com"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "setup-git",
  flags: FLAGS,
  help: `Configure git (global config) to use loopauth as the credential helper of a host:
credential.<origin>.helper is reset and set to "!… git-credential".

The helper is the loopauth installed on PATH when one runs (deno install -g, a binary),
else this binary, else the deno run command of this run with the narrowest flags and the
main module's URL or path (never a copy inside Deno's cache).

Usage: loopauth setup-git [--hostname HOST] [--json]

Flags:
${flagHelp(FLAGS)}

Examples:
  loopauth setup-git
  loopauth setup-git --hostname ghe.example.com`,
  async run(argv) {
    const { values } = parseFlags(argv, FLAGS, { command: "setup-git" });
    const dir = configDir();
    const hostname = values.hostname;
    let hosts: GitHubHost[];
    if (hostname === undefined) {
      const config = readConfig(dir);
      hosts = [];
      for (const key of Object.keys(config.hosts)) {
        const host = storedHost(config, key);
        // git credentials are GitHub's (a token as the password of a git remote).
        if ("issuer" in host) {
          console.error(`Skipped ${key}: it is an OAuth issuer, not a git host`);
        } else hosts.push(host);
      }
    } else hosts = [resolveGitHubHost(hostname)];
    if (hosts.length === 0) {
      throw new LoopauthError(
        "not_logged_in",
        // Not "run loopauth login": without an app's client id that fails too.
        "Not logged in to any GitHub host: log in first (see loopauth help login), or give --hostname",
      );
    }
    const facts = await helperFacts({
      configDir: dir,
      onSkipped: (path, why) => console.error(`Skipped ${path} on PATH: ${why}`),
    });
    const configured = [];
    for (const host of hosts) {
      const name = `credential.${host.origin}.helper`;
      const helper = helperCommand(host, facts);
      // An empty helper first clears helpers configured elsewhere for this URL (as gh does).
      await git(["config", "--global", "--replace-all", name, ""]);
      await git(["config", "--global", "--add", name, `!${helper}`]);
      configured.push({ host: host.key, origin: host.origin, helper });
      if (!values.json) console.log(`Configured git to use loopauth for ${host.origin}`);
    }
    if (values.json) console.log(JSON.stringify(configured));
    return 0;
  },
};

async function git(args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("git", { args, stdin: "null" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new LoopauthError("usage", "git is not installed or not on PATH: install git first", {
        cause: error,
      });
    }
    throw error;
  }
  if (!output.success) {
    const reason = new TextDecoder().decode(output.stderr).trim().split("\n")[0];
    throw new LoopauthError("storage", `git config failed: ${reason || `exit ${output.code}`}`);
  }
}
