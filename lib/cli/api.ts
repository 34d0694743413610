/** `loopauth api`. @module */
import { apiRequest } from "../ops/api.ts";
import { LoopauthError } from "../core/errors.ts";
import {
  type Command,
  flagHelp,
  type Flags,
  hostFlags,
  hostnameFlag,
  issuerFlag,
  parseFlags,
  USER_FLAG,
  userFlag,
  writeResult,
} from "./command.ts";

/** The flags of `api` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  ...hostFlags(
    "an OAuth 2.0 / OpenID Connect issuer's account: PATH (or a full URL) is sent with the bearer token to a URL under --base",
  ),
  base: {
    type: "string",
    value: "URL",
    description: "with --issuer: the API base (default: the issuer's origin)",
  },
  ...USER_FLAG,
  method: {
    type: "string",
    short: "X",
    value: "METHOD",
    description: "HTTP method (default GET)",
  },
  field: {
    type: "string",
    short: "f",
    multiple: true,
    value: "key=value",
    description: "a parameter: query string for GET, JSON body otherwise (repeatable)",
  },
} as const satisfies Flags;

/**
 * The `api` subcommand: one REST call with the stored token, JSON on stdout.
 *
 * @example
 * ```ts ignore
 * import { command } from "./api.ts";
 * await command.run(["/user"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "api",
  flags: FLAGS,
  // Built when asked for: the flag lists cost every run of the command otherwise.
  get help() {
    return `Call the host's REST API with the stored token and print the JSON answer.

Usage: loopauth api PATH [--hostname HOST | --issuer URL [--base URL]] [--user LOGIN]
                    [-X METHOD] [-f key=value]...

Flags:
${flagHelp(FLAGS)}

An expiring token is refreshed first; LOOPAUTH_TOKEN (and GH_TOKEN / GITHUB_TOKEN for
github.com, GH_ENTERPRISE_TOKEN / GITHUB_ENTERPRISE_TOKEN for GHES) win over the stored token.

Examples:
  loopauth api /user
  loopauth api /user/repos -f per_page=5
  loopauth api -X POST /user/repos -f name=hello-world`;
  },
  async run(argv, { signal }) {
    const { values, positionals } = parseFlags(argv, FLAGS, { command: "api", positionals: true });
    if (positionals.length !== 1) {
      throw new LoopauthError("usage", "loopauth api takes one PATH, e.g. loopauth api /user");
    }
    const fields: Record<string, string> = {};
    for (const field of values.field ?? []) {
      const at = field.indexOf("=");
      if (at < 1) throw new LoopauthError("usage", `Invalid field "${field}": use -f key=value`);
      fields[field.slice(0, at)] = field.slice(at + 1);
    }
    const data = await apiRequest(positionals[0], {
      hostname: hostnameFlag(values),
      issuer: issuerFlag(values),
      base: values.base,
      ...userFlag(values),
      fromEnv: true,
      method: values.method,
      fields,
      signal,
    });
    if (data !== undefined) {
      writeResult(`${typeof data === "string" ? data : JSON.stringify(data, null, 2)}\n`);
    }
    return 0;
  },
};
