/** `loopauth status`. @module */
import { asReason } from "../core/text.ts";
import { loginCommand, LoopauthError } from "../core/errors.ts";
import { terminalSafe } from "../core/text.ts";
import { describeExpiry } from "../core/expiry.ts";
import { type AccountStatus, BAD_STATES, status } from "../ops/status.ts";
import {
  type Command,
  defaultHost,
  flagHelp,
  type Flags,
  HOST_FLAGS,
  issuerFlag,
  parseFlags,
} from "./command.ts";

/** The flags of `status` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  hostname: { ...HOST_FLAGS.hostname, description: "only this host" },
  issuer: { ...HOST_FLAGS.issuer, description: "only this OAuth 2.0 / OpenID Connect issuer" },
  json: { type: "boolean", description: "print JSON (its shape: docs/storage.md, status --json)" },
  offline: { type: "boolean", description: "do not ask the servers" },
} as const satisfies Flags;

/**
 * The `status` subcommand: accounts per host, where their tokens live, expiry,
 * and whether the server accepts them.
 *
 * @example
 * ```ts ignore
 * import { command } from "./status.ts";
 * await command.run(["--offline"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "status",
  flags: FLAGS,
  help: `Show every account per host: login, scopes, where the token lives (keyring, file
or env), its expiry, and whether the server still accepts it.

Usage: loopauth status [--hostname HOST | --issuer URL] [--json] [--offline]

Flags:
${flagHelp(FLAGS)}

A token from the environment shows as source env, checked with the one host it belongs
to: LOOPAUTH_TOKEN and GH_ENTERPRISE_TOKEN / GITHUB_ENTERPRISE_TOKEN with the host named
(--hostname, --issuer, else LOOPAUTH_HOST, GH_HOST, github.com), GH_TOKEN / GITHUB_TOKEN
with github.com; never with another stored host.

A token past its expiry is renewed with its refresh token to know whether that still
works (--offline shows it as refreshable instead).

Exits 13 when a token is invalid, expired (also when the server refused its refresh
token) or missing, 7 when a server did not answer, 3 when nothing is stored, and 8
when the config or tokens file cannot be read.

Examples:
  loopauth status
  loopauth status --hostname ghe.example.com --json`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "status" });
    const hostname = values.hostname;
    const issuer = issuerFlag(values);
    const report = await status({
      hostname,
      issuer,
      offline: values.offline === true,
      fromEnv: true,
      defaultHost: defaultHost(),
      signal,
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      for (const { host, accounts } of report.hosts) {
        console.log(host);
        for (const account of accounts) console.log(describe(account));
      }
      for (const resource of report.resources ?? []) {
        console.log(terminalSafe(resource.resource, { max: 200 }));
        console.log(
          `  token from ${terminalSafe(resource.authorizationServer, { max: 200 })}${
            resource.expiresAt ? `, expires ${resource.expiresAt}` : ""
          } (refreshed when used)`,
        );
        console.log(`    source: ${resource.source}`);
        console.log(`    client id: ${terminalSafe(resource.clientId, { max: 200 })}`);
        if (resource.scopes.length) {
          console.log(`    scopes: ${terminalSafe(resource.scopes.join(" "), { max: 200 })}`);
        }
      }
    }
    if (report.hosts.length === 0 && !report.resources?.length) {
      throw new LoopauthError(
        "not_logged_in",
        `Not logged in to ${issuer ?? hostname ?? "any host"}: run ${
          loginCommand(issuer ?? hostname ?? "github.com", { issuer: issuer !== undefined })
        }`,
      );
    }
    for (const { host, issuer: isIssuer, accounts } of report.hosts) {
      const bad = accounts.find((a) => BAD_STATES.includes(a.state));
      if (!bad) continue;
      throw new LoopauthError(
        "session_expired",
        bad.source === "env"
          ? `The token in ${bad.location} is ${bad.state} for ${host}: replace or unset ${bad.location}`
          : `The token of ${bad.login} on ${host} is ${bad.state}: run ${
            loginCommand(host, { issuer: isIssuer })
          }`,
      );
    }
    // As gh's `auth status`: a token that could not be checked is no success either.
    for (const { host, accounts } of report.hosts) {
      const unchecked = accounts.find((a) => a.state === "unreachable");
      if (!unchecked) continue;
      throw new LoopauthError(
        "network",
        `Could not check the token of ${unchecked.login ?? unchecked.location} on ${host}: ${
          asReason(unchecked.detail ?? "no answer")
        }`,
      );
    }
    return 0;
  },
};

function describe(account: AccountStatus): string {
  const lines = [
    `  ${account.login ?? "(unknown login)"}${account.active ? " (active)" : ""}: ${account.state}${
      account.detail ? ` (${account.detail})` : ""
    }`,
    `    source: ${account.source}${account.source === "env" ? " " : ", "}${account.location}`,
  ];
  if (account.clientId) lines.push(`    client id: ${account.clientId}`);
  lines.push(`    scopes: ${account.scopes.length ? account.scopes.join(", ") : "(none)"}`);
  // People read the span and the minute; --json keeps the ISO times.
  lines.push(
    `    token ${
      account.tokenExpiresAt ? describeExpiry(account.tokenExpiresAt) : "never expires"
    }`,
  );
  if (account.refreshTokenExpiresAt) {
    lines.push(`    refresh token ${describeExpiry(account.refreshTokenExpiresAt)}`);
  }
  return lines.join("\n");
}
