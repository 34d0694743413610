/**
 * Hints that work as printed: every "run loopauth …" a failure prints is run
 * here exactly as printed (no flag added), and must succeed. A login for a
 * host already used needs no --client-id: it takes the stored account's app
 * (its secret too) and keeps its scopes; a first GitHub login asks for gh's
 * default scopes.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { actAsUser, type DevProvider } from "../../lib/dev/provider.ts";
import {
  Cli,
  type CliOutput,
  loginOnce,
  runCli,
  secretEnv,
  storedSecrets,
  tokenRequests,
  withProvider,
} from "../helpers.ts";

/** The command after the last "run " of a one-line error, as the user would copy it. */
function printedHint(stderr: string): string[] {
  const hint = /: run (loopauth [^\n]+)$/.exec(stderr.trim())?.[1];
  assert.ok(hint, `no hint to run in: ${stderr}`);
  const [program, ...args] = hint.split(" ");
  assert.equal(program, "loopauth");
  return args;
}

/**
 * Runs a printed `loopauth login …` exactly as printed; the user approves in
 * the browser at the URL it prints. Returns the run and its authorization URL.
 */
async function runLoginHint(
  args: string[],
  configHome: string,
  env: Record<string, string> = {},
): Promise<CliOutput & { url: URL }> {
  const cli = new Cli(args, { configHome, env });
  const url = new URL(await cli.authorizationUrl());
  const page = await actAsUser(url.href);
  assert.equal(page.status, 200, page.body);
  return { url, ...(await cli.output()) };
}

/** Revokes a token at the provider, as the user would on the app's settings page. */
async function revoke(provider: DevProvider, token: string): Promise<void> {
  const response = await fetch(
    `${provider.origin}/api/v3/applications/${provider.clientId}/token`,
    {
      method: "DELETE",
      headers: {
        authorization: `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
      },
      body: JSON.stringify({ access_token: token }),
    },
  );
  await response.body?.cancel();
  assert.equal(response.status, 204);
}

Deno.test("hints: token after the session expired prints a login that works as printed, with the stored app", async () => {
  await withProvider(async (provider, configHome) => {
    const host = ["--hostname", provider.origin];
    const login = await loginOnce(provider, configHome, "--storage", "file");
    assert.equal(login.code, 0, login.stderr);
    // The grant is revoked and the access token expires: the refresh is refused.
    const { accessToken } = await storedSecrets(configHome, provider.origin);
    const grant = await fetch(`${provider.origin}/api/v3/applications/${provider.clientId}/grant`, {
      method: "DELETE",
      headers: {
        authorization: `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
      },
      body: JSON.stringify({ access_token: accessToken }),
    });
    await grant.body?.cancel();
    assert.equal(grant.status, 204);
    const expired = await runCli(["token", ...host], { configHome });
    assert.equal(expired.code, EXIT_CODES.session_expired, expired.stderr);

    const hint = printedHint(expired.stderr);
    assert.deepEqual(hint, ["login", ...host], "no --client-id: the account knows its app");
    const again = await runLoginHint(hint, configHome);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.url.searchParams.get("client_id"), provider.clientId);
    // The stored secret went with the code exchange (the web flow of an OAuth App needs it).
    const exchange = tokenRequests(provider, "authorization_code").at(-1)!;
    assert.equal(new URLSearchParams(exchange.body).get("client_secret"), provider.clientSecret);
    const token = await runCli(["token", ...host], { configHome });
    assert.equal(token.code, 0, token.stderr);
  }, { expiringTokens: { accessTtl: 30, refreshTtl: 3600 } });
});

Deno.test("hints: status for a revoked token and api with a 401 print a login that works as printed", async () => {
  await withProvider(async (provider, configHome) => {
    const host = ["--hostname", provider.origin];
    const login = await loginOnce(provider, configHome, "--storage", "file");
    assert.equal(login.code, 0, login.stderr);

    await revoke(provider, (await storedSecrets(configHome, provider.origin)).accessToken);
    const status = await runCli(["status", ...host], { configHome });
    assert.equal(status.code, EXIT_CODES.session_expired, status.stderr);
    const fromStatus = printedHint(status.stderr.split("\n").at(-1)!);
    const first = await runLoginHint(fromStatus, configHome);
    assert.equal(first.code, 0, first.stderr);
    const healthy = await runCli(["status", ...host], { configHome });
    assert.equal(healthy.code, 0, healthy.stderr);

    await revoke(provider, (await storedSecrets(configHome, provider.origin)).accessToken);
    const api = await runCli(["api", "/user", ...host], { configHome });
    assert.notEqual(api.code, 0);
    assert.equal(api.stdout, "");
    assert.equal(api.stderr.split("\n").length, 1, api.stderr);
    const fromApi = printedHint(api.stderr);
    const second = await runLoginHint(fromApi, configHome);
    assert.equal(second.code, 0, second.stderr);
    const user = await runCli(["api", "/user", ...host], { configHome });
    assert.equal(user.code, 0, user.stderr);
    assert.equal(JSON.parse(user.stdout).login, "octocat");
  });
});

Deno.test("hints: api with a refused token from the environment names the variable, not a login", async () => {
  await withProvider(async (provider, configHome) => {
    const api = await runCli(["api", "/user", "--hostname", provider.origin], {
      configHome,
      env: { LOOPAUTH_TOKEN: "gho_notatokenthisserverissued" },
    });
    assert.notEqual(api.code, 0);
    assert.match(
      api.stderr,
      /: the token in LOOPAUTH_TOKEN was refused: set it to a valid token, or unset it to use the stored login$/,
    );
    assert.ok(!api.stderr.includes("gho_notatokenthisserverissued"));
  });
});

Deno.test("login: no client id anywhere points to docs/oauth_app.md and loopauth dev-server", async () => {
  await withProvider(async (provider, configHome) => {
    const none = await runCli(["login", "--hostname", provider.origin], { configHome });
    assert.equal(none.code, EXIT_CODES.usage);
    assert.equal(
      none.stderr,
      "Error: A client id is needed: pass --client-id or set LOOPAUTH_CLIENT_ID (register an app as docs/oauth_app.md says, or try loopauth with loopauth dev-server)",
    );
    assert.equal(provider.requests.length, 0, "nothing was asked of the host");
    await Deno.stat(new URL("../../docs/oauth_app.md", import.meta.url));
  });
});

Deno.test("scopes: a first GitHub login asks for repo read:org gist; a plain login again keeps the account's", async () => {
  await withProvider(async (provider, configHome) => {
    const host = ["--hostname", provider.origin];
    // A first login as the user types it (the secret in the environment): no flow flag.
    const first = await runLoginHint(
      ["login", ...host, "--client-id", provider.clientId],
      configHome,
      secretEnv(provider),
    );
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.url.searchParams.get("scope"), "repo read:org gist");

    const narrow = await loginOnce(provider, configHome, "--scopes", "read:user");
    assert.equal(narrow.code, 0, narrow.stderr);
    assert.equal(new URL(narrow.url).searchParams.get("scope"), "read:user");

    // A plain login (no --client-id, no --scopes) asks for what the account has.
    const plain = await runLoginHint(["login", ...host], configHome);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.url.searchParams.get("scope"), "read:user");
    assert.equal(plain.url.searchParams.get("client_id"), provider.clientId);
  });
});

Deno.test("hints: login --storage agent without an agent names loopauth agent start, which works as printed", async () => {
  await withProvider(async (provider, configHome) => {
    const args = ["login", "--hostname", provider.origin, "--client-id", provider.clientId];
    const options = { configHome, env: secretEnv(provider) };
    const none = await runCli([...args, "--storage", "agent"], options);
    assert.equal(none.code, EXIT_CODES.storage, none.stderr);
    assert.equal(none.stderr.split("\n").length, 1, none.stderr);
    assert.equal(provider.requests.length, 0, "refused before the browser or the device code");
    const [, printed] =
      /: run (loopauth [^,]+) first, or use another --storage$/.exec(none.stderr) ??
        [];
    assert.equal(printed, "loopauth agent start");
    const start = await runCli(printed.split(" ").slice(1), { configHome });
    try {
      assert.equal(start.code, 0, start.stderr);
      const cli = new Cli([...args, "--storage", "agent"], options);
      await actAsUser(await cli.authorizationUrl());
      const again = await cli.output();
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /^Token stored in the agent at .*agent\.sock$/m);
    } finally {
      const stop = await runCli(["agent", "stop"], { configHome });
      assert.equal(stop.code, 0, stop.stderr);
    }
  });
});
