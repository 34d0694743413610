/** `loopauth logout`. @module */
import { logout, logoutAll, logoutResource } from "../ops/logout.ts";
import {
  type Command,
  flagHelp,
  type Flags,
  hostFlags,
  hostnameFlag,
  issuerFlag,
  parseFlags,
  resourceFlag,
  USER_FLAG,
  userFlag,
} from "./command.ts";
import { LoopauthError } from "../core/errors.ts";
import { terminalSafe } from "../core/text.ts";
import { CLIENT_SECRET_FLAGS, clientSecretFlag } from "./client_secret.ts";

/** The flags of `logout` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  ...hostFlags(
    "an OAuth 2.0 / OpenID Connect issuer (revokes at its revocation_endpoint, RFC 7009)",
  ),
  ...USER_FLAG,
  resource: {
    type: "string",
    value: "URL",
    description:
      "a resource logged in to with login --resource URL: revoked where its authorization server offers revocation, then forgotten",
  },
  all: {
    type: "boolean",
    description:
      "every account: of --hostname or --issuer when given, else of every host and resource, and every stored client registration",
  },
  ...CLIENT_SECRET_FLAGS,
  "client-secret-file": {
    ...CLIENT_SECRET_FLAGS["client-secret-file"],
    description:
      "the app's secret, when the login did not store one (GitHub needs it to revoke): the file's first line; refused when other users may read it (or LOOPAUTH_CLIENT_SECRET)",
  },
  json: {
    type: "boolean",
    description:
      'print what was logged out as JSON: [{"host", "login", "revoked"}] (--all adds {"resource", "revoked"} and {"registration", "clientId"})',
  },
} as const satisfies Flags;

/**
 * The `logout` subcommand: revoke on the server, then forget locally.
 *
 * @example
 * ```ts ignore
 * import { command } from "./logout.ts";
 * await command.run([], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "logout",
  flags: FLAGS,
  help: `Revoke a stored token on the server, then remove it from this machine
(from its storage: keyring, file, agent or encrypted, and the config file).

Usage: loopauth logout [--hostname HOST | --issuer URL] [--user LOGIN | --all]
                       [--client-secret-file PATH] [--json]
       loopauth logout --resource URL [--json]

Flags:
${flagHelp(FLAGS)}

If revocation fails the local token is still removed, and the message says where to
revoke it by hand (exit code 9). A token given to login --with-token was made elsewhere:
it is only removed here (revoke it where it was made).

--all without --hostname or --issuer also logs out of every resource (as --resource
does) and forgets every stored client registration with its secret: nothing is left.

Examples:
  loopauth logout
  loopauth logout --hostname ghe.example.com --user hubot
  loopauth logout --all`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "logout" });
    if (values.resource !== undefined) {
      const resource = await resourceFlag(values, [
        "user",
        "all",
        "client-secret",
        "client-secret-file",
      ]);
      const { removed, revoked } = await logoutResource(resource, { signal });
      if (!removed) {
        throw new LoopauthError(
          "not_logged_in",
          `Not logged in to ${terminalSafe(resource, { max: 120 })}`,
        );
      }
      if (values.json) console.log(JSON.stringify([{ resource, revoked }]));
      else {
        console.log(
          `Logged out of ${terminalSafe(resource, { max: 120 })}${
            revoked ? "; the token was revoked on the server" : ""
          }`,
        );
      }
      return 0;
    }
    if (values.all && values.user !== undefined) {
      throw new LoopauthError("usage", "Give --user or --all, not both: see loopauth help logout");
    }
    const clientSecret = await clientSecretFlag(values);
    const options = {
      // --all without --hostname is every host, whatever the default host.
      hostname: values.all ? values.hostname : hostnameFlag(values),
      issuer: issuerFlag(values),
      clientSecret,
      signal,
    };
    const results = values.all
      ? await logoutAll(options)
      : [await logout({ ...options, ...userFlag(values) })];
    if (values.json) {
      console.log(JSON.stringify(results));
      return 0;
    }
    for (const result of results) {
      if ("registration" in result) {
        // Names from the config file: shown as text, never as terminal controls.
        console.log(
          `Forgot the client ${terminalSafe(result.clientId, { max: 80 })} registered at ${
            terminalSafe(result.registration, { max: 120 })
          }`,
        );
      } else if ("resource" in result) {
        console.log(
          `Logged out of ${terminalSafe(result.resource, { max: 120 })}${
            result.revoked ? "; the token was revoked on the server" : ""
          }`,
        );
      } else {
        console.log(
          result.revoked
            ? `Logged out of ${result.host} (${result.login}); the token was revoked on the server`
            : `Logged out of ${result.host} (${result.login}); the token was not made by loopauth, so it is still valid: revoke it where it was made`,
        );
      }
    }
    return 0;
  },
};
