/** `loopauth logout`. @module */
import { logout } from "../logout.ts";
import { type Command, flagOrEnv, parseFlags } from "./command.ts";

/**
 * The `logout` subcommand: revoke on the server, then forget locally.
 *
 * @example
 * ```ts
 * import { command } from "./logout.ts";
 * await command.run([], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "logout",
  help: `Revoke the stored token on the server, then remove it from this machine.

Usage: loopauth logout [--hostname HOST] [--client-secret SECRET]

Flags:
  --hostname HOST         github.com (default), a GHES host, or an http:// loopback origin
  --client-secret SECRET  the app's secret, when the login did not store one
                          (or LOOPAUTH_CLIENT_SECRET); GitHub needs it to revoke

If revocation fails the local token is still removed, and the message says where to
revoke it by hand (exit code 9).

Examples:
  loopauth logout
  loopauth logout --hostname ghe.example.com`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, {
      hostname: { type: "string" },
      "client-secret": { type: "string" },
    }, { command: "logout" });
    const result = await logout({
      hostname: values.hostname as string | undefined,
      clientSecret: flagOrEnv(values, "client-secret", "LOOPAUTH_CLIENT_SECRET"),
      signal,
    });
    console.log(
      `Logged out of ${result.host} (${result.login}); the token was revoked on the server`,
    );
    return 0;
  },
};
