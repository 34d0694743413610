/** `loopauth token`. @module */
import { getToken } from "../token.ts";
import { type Command, parseFlags } from "./command.ts";

/**
 * The `token` subcommand: prints the stored token.
 *
 * @example
 * ```ts
 * import { command } from "./token.ts";
 * await command.run(["--hostname", "github.com"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "token",
  help: `Print the stored token of a host on stdout.

Usage: loopauth token [--hostname HOST]

Flags:
  --hostname HOST  github.com (default), a GHES host, or an http:// loopback origin

Examples:
  loopauth token
  GH_TOKEN=$(loopauth token --hostname ghe.example.com) gh repo list`,
  async run(argv) {
    const { values } = parseFlags(argv, { hostname: { type: "string" } }, { command: "token" });
    const token = await getToken({ hostname: values.hostname as string | undefined });
    console.log(token);
    return 0;
  },
};
