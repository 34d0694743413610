/** `loopauth login`. @module */
import { LoopauthError } from "../core/errors.ts";
import { login } from "../ops/login.ts";
import {
  type Command,
  flagHelp,
  flagOrEnv,
  type Flags,
  hostFlags,
  hostnameFlag,
  issuerFlag,
  parseFlags,
  refuseFlags,
  resourceFlag,
  SCOPES_FLAG,
  USER_VARIABLE,
  userFlag,
} from "./command.ts";
import { parseStorage } from "../store/secret_store.ts";
import type { Values } from "./parse_args.ts";
import { STORAGE_NAMES, type StorageName } from "../store/secrets.ts";
import { LOGIN_ROUTE_FLAGS, loginView, reportLogin } from "./login_view.ts";
import { parseParams } from "../flows/authorization_params.ts";
import { parseRedirectUri } from "../flows/redirect_uri.ts";
import { GITHUB_DEFAULT_SCOPES } from "../ops/login_app.ts";
import {
  CLIENT_SECRET_FLAGS,
  clientSecretFlag,
  promptClientSecret,
  resourceClientFlags,
} from "./client_secret.ts";

/** The flags of `login` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const LOGIN_FLAGS = {
  ...hostFlags(
    "any OAuth 2.0 / OpenID Connect provider instead of GitHub (endpoints from its metadata; register the client with the redirect URI http://127.0.0.1/callback)",
  ),
  "allow-no-pkce-metadata": {
    type: "boolean",
    description: "with --issuer: continue when the metadata lists no PKCE S256",
  },
  "client-id": {
    type: "string",
    value: "ID",
    description:
      "the OAuth App's client id (or LOOPAUTH_CLIENT_ID); default for a host already logged in to: its account's (and its secret)",
  },
  ...CLIENT_SECRET_FLAGS,
  scopes: {
    ...SCOPES_FLAG.scopes,
    description:
      "scopes, comma- or space-separated (default: the account's when logging in again, else gh's repo read:org gist; with --issuer: openid when the issuer supports it)",
  },
  ...LOGIN_ROUTE_FLAGS,
  storage: {
    type: "string",
    values: STORAGE_NAMES,
    description:
      "where to keep the token (or LOOPAUTH_STORAGE): the OS keyring, a 0600 file, the memory of loopauth agent, or tokens.enc encrypted with a passphrase; default: the OS keyring when one answers, else a running agent, else a 0600 file (with a warning)",
  },
  "redirect-uri": {
    type: "string",
    value: "URL",
    description:
      "the exact redirect URI the app's registration demands: http:// on 127.0.0.1, [::1] or localhost, a fixed port (or none: one from the OS) and a path, e.g. http://localhost:8123/callback; the callback server listens exactly there (localhost: on 127.0.0.1 and ::1) and answers only that host and path",
  },
  prompt: {
    type: "string",
    value: "WORDS",
    description:
      "the authorization request's prompt: login, consent, select_account, none, … (space-separated)",
  },
  "login-hint": {
    type: "string",
    value: "ACCOUNT",
    description: "the account to suggest (GitHub: login=, an issuer: login_hint=)",
  },
  param: {
    type: "string",
    multiple: true,
    value: "NAME=VALUE",
    description:
      "one more authorization request parameter (repeatable), e.g. audience=… or acr_values=…; refused for the ones loopauth sets (state, code_challenge*, redirect_uri, resource, client_id, response_type, response_mode, scope, nonce). These four flags go to the browser flow only: the device flow has no place for them (with --device they are refused, in a race it is said)",
  },
  resource: {
    type: "string",
    value: "URL",
    description:
      "a protected resource (an MCP server) known only by its URL: its authorization server from its metadata (RFC 9728), a client without --client-id (a client ID metadata document or registration, reused), the token bound to it (RFC 8707) and stored under it; see docs/mcp.md",
  },
  "client-metadata-url": {
    type: "string",
    value: "URL",
    description:
      "with --resource: your app's client ID metadata document (https), used where the authorization server supports them",
  },
  "no-resource-indicator": {
    type: "boolean",
    description:
      "with --resource: send no RFC 8707 resource parameter (for servers that reject it)",
  },
  "with-token": {
    type: "boolean",
    description:
      "read a token from stdin (a personal access token, or one from another tool) instead of logging in: checked with GET /user (its scopes from X-OAuth-Scopes), then stored like any other",
  },
} as const satisfies Flags;

/** The flags of a login in two steps (their own list in help). */
const TWO_STEP_FLAGS = {
  "no-wait": {
    type: "boolean",
    description:
      'return at once with the login\'s id, the URL to open and, where the host offers the device flow, the code to enter (with --json: {"id","url","userCode","verificationUri","expiresAt"}); a small background waiter holds the login until it ends or --timeout',
  },
  resume: {
    type: "string",
    value: "ID",
    description: "wait for that login to end (exit codes as a normal login)",
  },
  code: {
    type: "string",
    value: "URL_OR_CODE",
    description:
      "with --resume: finish it with the address the browser ended up at (or the code alone), without a terminal; --code - reads it from stdin (other local users can read a program's arguments)",
  },
  // Internal: the background half of --no-wait (reads its job on stdin).
  waiter: { type: "boolean", hidden: true, description: "the background half of --no-wait" },
} as const satisfies Flags;

const FLAGS = { ...LOGIN_FLAGS, ...TWO_STEP_FLAGS } as const satisfies Flags;

/**
 * The `login` subcommand.
 *
 * @example
 * ```ts ignore
 * import { command } from "./login.ts";
 * await command.run(["--client-id", "Iv1.abc", "--no-browser"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "login",
  flags: FLAGS,
  // Built when asked for: the flag lists cost every run of the command otherwise.
  get help() {
    return `Log in with your browser and store the token.

Usage: loopauth login [--hostname HOST | --issuer URL] --client-id ID [--client-secret-file PATH]
                      [--scopes LIST] [--no-browser] [--timeout DURATION] [--port N]
                      [--storage keyring|file|agent|encrypted]
                      [--device | --web] [--no-qr]
                      [--redirect-uri URL] [--prompt WORDS] [--login-hint ACCOUNT]
                      [--param NAME=VALUE]...
       loopauth login [--hostname HOST] --with-token < token.txt
       loopauth login --no-wait [--json] [--device | --web] [flags of a login]
       loopauth login --resume ID [--code URL_OR_CODE] [--json]

Without --device or --web the routes fit the machine. Where a local browser can surely
reach 127.0.0.1 (a display, $BROWSER, macOS, Windows, WSL with wslview) the browser flow
runs alone. Everywhere else (SSH without a forwarded display, containers, Linux without a
display, WSL without wslview) every route runs at once and the first to finish wins: the
device code, the browser URL (forward its port with the printed ssh -L command over SSH),
and on a terminal pasting the address the browser ends up at (or the code). The URL is
printed in every login but --device; the flow that worked last time is shown first.

Flags:
${flagHelp(LOGIN_FLAGS)}

Two steps, for programs (agents, CI) that cannot wait at a prompt:
${flagHelp(TWO_STEP_FLAGS)}

Logging in again adds the account (or replaces the same login) and makes it the host's
active account; see loopauth switch. With LOOPAUTH_USER set the active account stays as it
is (a login for that process only), and a login as another account is a warning.

Examples:
  loopauth login --client-id Iv1.abc --client-secret-file ~/.config/app-secret
  pass show my-app/secret | loopauth login --client-id Iv1.abc --client-secret -
  loopauth login --hostname ghe.example.com --client-id Iv1.abc --no-browser
  loopauth login --client-id Iv1.abc --device      # on a machine without a browser
  loopauth login --issuer https://id.example.com --client-id cli --scopes "openid offline_access"
  loopauth login --hostname ghe.example.com --with-token < ~/ghe-token.txt
  loopauth login --issuer https://id.example.com --client-id cli --web \\
      --redirect-uri http://localhost:8123/callback --prompt login --param audience=api
  loopauth login --client-id Iv1.abc --no-wait --json   # then: loopauth login --resume ID`;
  },
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "login" });
    if (values.waiter) {
      const { runWaiter } = await import("./login_two_step.ts");
      return await runWaiter(signal);
    }
    if (values.resume !== undefined || values.code !== undefined) {
      const { resume } = await import("./login_two_step.ts");
      return await resume(values, signal);
    }
    const hostname = hostnameFlag(values);
    const issuer = issuerFlag(values);
    const storage = parseStorage(flagOrEnv(values, "storage", "LOOPAUTH_STORAGE"));
    // Under LOOPAUTH_USER a login is this process's: the host's active account stays as it is,
    // and a plain login reuses that account's app and scopes.
    const processUser = userFlag({}).user;
    const activate = processUser === undefined ? undefined : false;
    const output = { json: values.json === true, quiet: values.quiet === true };
    const done = (result: Parameters<typeof reportLogin>[0]) => {
      warnOtherUser(result.login, processUser);
      reportLogin(result, output);
      return 0;
    };
    if (values["with-token"]) {
      refuseFlags(values, [
        "issuer",
        "scopes",
        "device",
        "web",
        "redirect-uri",
        "prompt",
        "login-hint",
        "param",
      ], {
        beside: "--with-token",
        why: "the token is used as it was made",
      });
      const { loginWithToken, readTokenInput } = await import("../ops/token_login.ts");
      // On a terminal the token is typed or pasted without being shown.
      const token = Deno.stdin.isTerminal()
        ? await (await import("../platform/hidden_line.ts")).readHiddenLine(
          "Paste the token (it is not shown), then press Enter: ",
        )
        : await readTokenInput(Deno.stdin.readable);
      const result = await loginWithToken({
        hostname,
        token,
        clientId: flagOrEnv(values, "client-id", "LOOPAUTH_CLIENT_ID"),
        storage,
        activate,
        signal,
      });
      return done(result);
    }
    if (values.resource !== undefined) {
      return await resourceLoginCommand(values, { storage, output, signal });
    }
    for (const flag of ["client-metadata-url", "no-resource-indicator"] as const) {
      if (values[flag] !== undefined) {
        throw new LoopauthError("usage", `--${flag} goes with --resource URL`);
      }
    }
    // Checked before anything starts (a refused owned name costs nothing).
    const params = values.param === undefined ? undefined : parseParams(values.param);
    const redirectUri = values["redirect-uri"];
    if (redirectUri !== undefined) parseRedirectUri(redirectUri);
    // Read before anything starts: from a file, stdin or a prompt, the variable, or the flag.
    const clientSecret = await clientSecretFlag(values);
    if (values["no-wait"]) {
      const { start } = await import("./login_two_step.ts");
      return await start(values, {
        hostname,
        issuer,
        storage,
        clientId: flagOrEnv(values, "client-id", "LOOPAUTH_CLIENT_ID") ?? "",
        user: processUser,
        clientSecret,
        defaultScopes: issuer === undefined ? GITHUB_DEFAULT_SCOPES : undefined,
        redirectUri,
        prompt: values.prompt,
        loginHint: values["login-hint"],
        params,
      });
    }
    const view = loginView(values, { host: issuer ?? hostname ?? "github.com" });
    const result = await login({
      ...view,
      hostname,
      issuer,
      allowNoPkceMetadata: values["allow-no-pkce-metadata"] === true,
      clientId: flagOrEnv(values, "client-id", "LOOPAUTH_CLIENT_ID") ?? "",
      user: processUser,
      clientSecret,
      scopes: values.scopes,
      defaultScopes: issuer === undefined ? GITHUB_DEFAULT_SCOPES : undefined,
      askClientSecret: Deno.stdin.isTerminal() ? promptClientSecret : undefined,
      redirectUri,
      prompt: values.prompt,
      loginHint: values["login-hint"],
      params,
      storage,
      activate,
      signal,
    });
    return done(result);
  },
};

/** `login --resource URL`: a resource login, stored under the resource. */
async function resourceLoginCommand(
  values: Values<typeof FLAGS>,
  options: {
    storage: StorageName | undefined;
    output: { json: boolean; quiet: boolean };
    signal: AbortSignal;
  },
): Promise<number> {
  const resource = await resourceFlag(values, [
    "with-token",
    "no-wait",
    "allow-no-pkce-metadata",
    "param",
    "prompt",
    "login-hint",
  ]);
  const { resourceLogin } = await import("../ops/resource_login.ts");
  const { clientId, clientSecret } = await resourceClientFlags(values);
  const view = loginView(values, { host: resource });
  const result = await resourceLogin({
    ...view,
    resource,
    clientId,
    clientSecret,
    clientMetadataUrl: values["client-metadata-url"],
    omitResourceParameter: values["no-resource-indicator"] === true,
    scopes: values.scopes,
    redirectUri: values["redirect-uri"],
    storage: options.storage,
    store: true,
    signal: options.signal,
  });
  reportLogin(result, options.output);
  return 0;
}

/** A login as another account than `LOOPAUTH_USER` names: this process's commands will not use it. */
function warnOtherUser(login: string, processUser: string | undefined): void {
  if (processUser === undefined || login === processUser) return;
  console.error(
    `Warning: logged in as ${login}, but ${USER_VARIABLE} names ${processUser}: set ${USER_VARIABLE}=${login} to use this account`,
  );
}
