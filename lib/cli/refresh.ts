/** `loopauth refresh`. @module */
import { reauthorize } from "../ops/reauthorize.ts";
import {
  type Command,
  flagHelp,
  flagOrEnv,
  type Flags,
  hostFlags,
  hostnameFlag,
  issuerFlag,
  parseFlags,
  SCOPES_FLAG,
  USER_FLAG,
  userFlag,
} from "./command.ts";
import { LOGIN_ROUTE_FLAGS, loginView } from "./login_view.ts";
import { CLIENT_SECRET_FLAGS, clientSecretFlag, promptClientSecret } from "./client_secret.ts";

/** The flags of `refresh` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  ...hostFlags("an OAuth 2.0 / OpenID Connect issuer's account"),
  ...USER_FLAG,
  scopes: { ...SCOPES_FLAG.scopes, description: "scopes to add, comma- or space-separated" },
  "remove-scopes": { type: "string", value: "LIST", description: "scopes to drop" },
  "client-id": {
    type: "string",
    value: "ID",
    description: "the app's client id, for an account stored with --with-token",
  },
  ...CLIENT_SECRET_FLAGS,
  "client-secret-file": {
    ...CLIENT_SECRET_FLAGS["client-secret-file"],
    description:
      "the app's client secret, when the login did not store one: the file's first line; refused when other users may read it (or LOOPAUTH_CLIENT_SECRET)",
  },
  ...LOGIN_ROUTE_FLAGS,
} as const satisfies Flags;

/**
 * The `refresh` subcommand: a new login for a stored account with more or
 * fewer scopes (like `gh auth refresh -s`).
 *
 * @example
 * ```ts ignore
 * import { command } from "./refresh.ts";
 * await command.run(["--scopes", "repo", "--device"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "refresh",
  flags: FLAGS,
  help: `Log in again as a stored account to change its scopes, like gh auth refresh -s: the
new login asks for the account's scopes plus --scopes, minus --remove-scopes, with the
account's app, and its token replaces the old one in the same storage (the previous
token is revoked when it can be). Without either flag it asks for the same scopes.

Usage: loopauth refresh [--hostname HOST | --issuer URL] [--user LOGIN]
                        [--scopes LIST] [--remove-scopes LIST] [--client-secret-file PATH]
                        [--no-browser] [--timeout DURATION] [--port N]
                        [--device | --web] [--no-qr] [--quiet] [--json]

Flags:
${flagHelp(FLAGS)}

Signing in as another user in the browser changes nothing (exit 4).

Examples:
  loopauth refresh -s repo,gist
  loopauth refresh --remove-scopes gist --hostname ghe.example.com`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "refresh" });
    const hostname = hostnameFlag(values);
    const issuer = issuerFlag(values);
    // Read before anything starts, as login reads it.
    const clientSecret = await clientSecretFlag(values);
    const view = loginView(values, { host: issuer ?? hostname ?? "github.com" });
    const result = await reauthorize({
      ...view,
      hostname,
      issuer,
      ...userFlag(values),
      addScopes: values.scopes,
      removeScopes: values["remove-scopes"],
      clientId: flagOrEnv(values, "client-id", "LOOPAUTH_CLIENT_ID"),
      clientSecret,
      askClientSecret: Deno.stdin.isTerminal() ? promptClientSecret : undefined,
      signal,
    });
    if (values.json) {
      const {
        host,
        login,
        scopes,
        requestedScopes,
        tokenType,
        expiresAt,
        storage,
        storedIn,
        flow,
      } = result;
      console.log(JSON.stringify({
        host,
        login,
        scopes,
        requestedScopes,
        tokenType,
        expiresAt: expiresAt ?? null,
        storage,
        storedIn,
        flow,
        previousRevoked: result.previousRevoked,
      }));
      return 0;
    }
    if (!values.quiet) console.error(`Token stored in ${result.storedIn}`);
    const scopes = result.scopes.length ? result.scopes.join(", ") : "(none)";
    console.log(`Refreshed ${result.host} as ${result.login}: scopes ${scopes}`);
    return 0;
  },
};
