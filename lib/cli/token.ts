/** `loopauth token`. @module */
import { getToken } from "../ops/token.ts";
import {
  type Command,
  HOST_FLAGS,
  hostnameFlag,
  issuerFlag,
  parseFlags,
  USER_FLAG,
  userFlag,
  writeResult,
} from "./command.ts";

/**
 * The `token` subcommand: prints the token (refreshed first when it expires
 * within a minute).
 *
 * @example
 * ```ts
 * import { command } from "./token.ts";
 * await command.run(["--hostname", "github.com"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "token",
  help: `Print the token of a host on stdout.

An expiring token is refreshed first when it expires within a minute. LOOPAUTH_TOKEN
(any host), GH_TOKEN / GITHUB_TOKEN (github.com) and GH_ENTERPRISE_TOKEN /
GITHUB_ENTERPRISE_TOKEN (GitHub Enterprise Server hosts) win over the stored token.

Usage: loopauth token [--hostname HOST | --issuer URL] [--user LOGIN]

Flags:
  --hostname HOST  github.com (default; or LOOPAUTH_HOST, GH_HOST), a GHES host, or an
                   http:// loopback origin
  --issuer URL     an OAuth 2.0 / OpenID Connect issuer logged in with login --issuer
  --user LOGIN     the account (default: LOOPAUTH_USER, else the host's active account)

Examples:
  loopauth token
  GH_TOKEN=$(loopauth token --hostname ghe.example.com) gh repo list`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, {
      ...HOST_FLAGS,
      ...USER_FLAG,
    }, { command: "token" });
    const token = await getToken({
      hostname: hostnameFlag(values),
      issuer: issuerFlag(values),
      ...userFlag(values),
      fromEnv: true,
      signal,
    });
    writeResult(`${token}\n`);
    return 0;
  },
};
