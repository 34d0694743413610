/** `loopauth token`. @module */
import { LoopauthError } from "../core/errors.ts";
import { readEnvVar } from "../core/env_vars.ts";
import { getToken, tokenInfo } from "../ops/token.ts";
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
  writeResult,
} from "./command.ts";

/** The variable kubectl passes its request in (client.authentication.k8s.io). */
const EXEC_INFO_VARIABLE = "KUBERNETES_EXEC_INFO";

/** The flags of `token` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  ...hostFlags("an OAuth 2.0 / OpenID Connect issuer logged in with login --issuer"),
  ...USER_FLAG,
  resource: {
    type: "string",
    value: "URL",
    description:
      "the token of a resource logged in to with login --resource URL (refreshed under the lock)",
  },
  json: {
    type: "boolean",
    description:
      'print {"host", "login", "token", "tokenType", "expiresAt", "scopes", "source"}; for a token from the environment login and scopes are null, source is "env" and "variable" names it',
  },
  "exec-credential": {
    type: "boolean",
    description:
      "print a Kubernetes ExecCredential (client.authentication.k8s.io/v1, or the version kubectl asks for), for a kubeconfig's exec plugin",
  },
} as const satisfies Flags;

/**
 * The `token` subcommand: prints the token (refreshed first when it expires
 * within a minute), alone, as JSON, or as Kubernetes' `ExecCredential`.
 *
 * @example
 * ```ts ignore
 * import { command } from "./token.ts";
 * await command.run(["--hostname", "github.com"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "token",
  flags: FLAGS,
  help: `Print the token of a host on stdout.

An expiring token is refreshed first when it expires within a minute. LOOPAUTH_TOKEN
(any host), GH_TOKEN / GITHUB_TOKEN (github.com) and GH_ENTERPRISE_TOKEN /
GITHUB_ENTERPRISE_TOKEN (GitHub Enterprise Server hosts) win over the stored token.

Usage: loopauth token [--hostname HOST | --issuer URL] [--user LOGIN]
                      [--json | --exec-credential]
       loopauth token --resource URL [--json]

Flags:
${flagHelp(FLAGS)}

Examples:
  loopauth token
  GH_TOKEN=$(loopauth token -h ghe.example.com) gh repo list
  loopauth token --issuer https://id.example.com --exec-credential`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "token" });
    if (values.json && values["exec-credential"]) {
      throw new LoopauthError("usage", "Give --json or --exec-credential, not both");
    }
    if (values.resource !== undefined) {
      const resource = await resourceFlag(values, ["user", "exec-credential"]);
      const { resourceToken } = await import("../ops/resource_account.ts");
      const account = await resourceToken(resource, { signal });
      const { token } = account;
      writeResult(
        values.json
          ? `${
            JSON.stringify({
              resource: account.host,
              authorizationServer: account.authorizationServer,
              token: token.accessToken,
              tokenType: token.tokenType,
              expiresAt: token.expiresAt ?? null,
              scopes: token.scopes,
              source: "stored",
            })
          }\n`
          : `${token.accessToken}\n`,
      );
      return 0;
    }
    const options = {
      hostname: hostnameFlag(values),
      issuer: issuerFlag(values),
      ...userFlag(values),
      fromEnv: true,
      signal,
    };
    if (values["exec-credential"]) {
      // Loaded only here: the plain token stays the fast path.
      const { execCredential, execInfoVersion } = await import("../ops/exec_credential.ts");
      const version = execInfoVersion(readEnvVar(EXEC_INFO_VARIABLE));
      writeResult(`${JSON.stringify(execCredential(await tokenInfo(options), version))}\n`);
      return 0;
    }
    if (values.json) {
      writeResult(`${JSON.stringify(await tokenInfo(options))}\n`);
      return 0;
    }
    writeResult(`${await getToken(options)}\n`);
    return 0;
  },
};
