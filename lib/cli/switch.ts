/** `loopauth switch`. @module */
import { LoopauthError } from "../core/errors.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import { setActiveAccount } from "../store/accounts.ts";
import { readConfig } from "../store/config.ts";
import { configDir } from "../store/paths.ts";
import {
  type Command,
  flagHelp,
  type Flags,
  HOSTNAME_FLAG,
  hostnameFlag,
  parseFlags,
  USER_FLAG,
} from "./command.ts";

/** The flags of `switch` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  ...HOSTNAME_FLAG,
  user: {
    ...USER_FLAG.user,
    description: "the account; may be left out when the host has exactly two",
  },
  json: { type: "boolean", description: 'print the result as JSON: {"host", "login"}' },
} as const satisfies Flags;

/**
 * The `switch` subcommand: choose a host's active account.
 *
 * @example
 * ```ts ignore
 * import { command } from "./switch.ts";
 * await command.run(["--user", "hubot"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "switch",
  flags: FLAGS,
  help: `Make another stored account the active one of a host (used without --user).

Usage: loopauth switch [--hostname HOST] [--user LOGIN] [--json]

Flags:
${flagHelp(FLAGS)}

Examples:
  loopauth switch --user hubot
  loopauth switch --hostname ghe.example.com --user octocat`,
  async run(argv) {
    const { values } = parseFlags(argv, FLAGS, { command: "switch" });
    const host = resolveGitHubHost(hostnameFlag(values));
    const dir = configDir();
    let user = values.user;
    if (user === undefined) {
      const entry = readConfig(dir).hosts[host.key];
      const others = Object.keys(entry?.accounts ?? {}).filter((l) => l !== entry?.active);
      if (others.length !== 1) {
        throw new LoopauthError(
          "usage",
          `Give the account to switch to with --user: ${host.key} has ${
            Object.keys(entry?.accounts ?? {}).length
          } accounts`,
        );
      }
      user = others[0];
    }
    await setActiveAccount(host.key, user, { dir });
    if (values.json) console.log(JSON.stringify({ host: host.key, login: user }));
    else console.log(`Switched ${host.key} to ${user}`);
    return 0;
  },
};
