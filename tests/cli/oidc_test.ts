/**
 * Any OAuth 2.0 / OpenID Connect provider, through the real CLI against a
 * real certified OpenID Provider (npm oidc-provider on 127.0.0.1): discovery
 * login with PKCE, token/api/status, refresh, RFC 7009 revocation on logout,
 * confidential clients, and the device flow. (A tampered `iss` and bad
 * issuers are attacks of the suite: tests/security/server_test.ts.)
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { Cli, type CliOptions, runCli, secretEnv, storedSecrets, tempConfig } from "../helpers.ts";
import { actAsOidcUser, startOidcProvider, type TestOidcProvider } from "../oidc_helpers.ts";

const SCOPES = "openid offline_access profile email";

function loginArgs(op: TestOidcProvider, ...extra: string[]): string[] {
  return [
    "login",
    "--issuer",
    op.issuer,
    "--no-browser",
    "--web",
    "--storage",
    "file",
    "--scopes",
    SCOPES,
    ...extra,
  ];
}

/** The provider's userinfo answer status for a token: 200 while it is valid. */
async function userinfoStatus(op: TestOidcProvider, token: string): Promise<number> {
  const response = await fetch(`${op.issuer}/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

/** A refresh_token grant straight at the provider: its OAuth error, or "ok". */
async function refreshAnswer(op: TestOidcProvider, refreshToken: string): Promise<string> {
  const response = await fetch(`${op.issuer}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: op.publicClient,
    }),
  });
  const data = await response.json();
  return data.error ?? "ok";
}

async function login(
  op: TestOidcProvider,
  where: string | CliOptions,
  ...extra: string[]
) {
  const cli = new Cli(
    loginArgs(op, ...extra),
    typeof where === "string" ? { configHome: where } : where,
  );
  const url = new URL(await cli.waitForLine(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/));
  const agent = await actAsOidcUser(url.href);
  return { url, agent, ...(await cli.output()) };
}

Deno.test("issuer: discovery login with PKCE and nonce, token, api, status, refresh, logout revokes", async () => {
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const home = config.home;
  const result = await login(op, home, "--client-id", op.publicClient);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `Logged in to ${op.issuer} as alice\n`, "name from the id_token");
  // The authorization request: endpoints from discovery, PKCE S256, a nonce.
  assert.equal(result.url.origin + result.url.pathname, `${op.issuer}/auth`);
  assert.equal(result.url.searchParams.get("code_challenge_method"), "S256");
  assert.match(result.url.searchParams.get("nonce") ?? "", /^[\w-]{43}$/);
  assert.match(
    result.url.searchParams.get("redirect_uri")!,
    /^http:\/\/127\.0\.0\.1:\d+\/callback$/,
  );
  // The provider sent iss (RFC 9207) and the CLI accepted it.
  assert.equal(new URL(result.agent.callback).searchParams.get("iss"), op.issuer);
  assert.equal(result.agent.status, 200);
  assert.match(result.agent.body, /Logged in to/);

  const cfg = JSON.parse(await Deno.readTextFile(`${home}/loopauth/config.json`));
  assert.equal(cfg.hosts[op.issuer].accounts.alice.issuer, true);
  const first = await storedSecrets(home, op.issuer, "alice");
  assert.ok(first.refreshToken, "offline_access gave a refresh token");
  assert.ok(
    !result.stderr.includes(first.accessToken) && !result.stdout.includes(first.accessToken),
  );

  const issuerFlag = ["--issuer", op.issuer];
  const token = await runCli(["token", ...issuerFlag], { configHome: home });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${first.accessToken}\n`);
  assert.equal(await userinfoStatus(op, first.accessToken), 200, "the provider accepts it");

  const api = await runCli(["api", "/me", ...issuerFlag], { configHome: home });
  assert.equal(api.code, 0, api.stderr);
  assert.equal(JSON.parse(api.stdout).sub, "alice");
  const outside = await runCli(["api", "https://example.com/x", ...issuerFlag], {
    configHome: home,
  });
  assert.equal(outside.code, EXIT_CODES.usage, outside.stderr);
  assert.match(outside.stderr, /^Error: .* is not under the API base/);

  const status = await runCli(["status", ...issuerFlag, "--json"], { configHome: home });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).hosts[0].accounts[0].state, "valid", status.stdout);

  // Expire the access token: token refreshes through the provider's refresh_token grant.
  const file = `${home}/loopauth/tokens.json`;
  const data = JSON.parse(await Deno.readTextFile(file));
  data.hosts[op.issuer].alice.expiresAt = new Date(Date.now() - 1000).toISOString();
  await Deno.writeTextFile(file, JSON.stringify(data), { mode: 0o600 });
  const refreshed = await runCli(["token", ...issuerFlag], { configHome: home });
  assert.equal(refreshed.code, 0, refreshed.stderr);
  const second = await storedSecrets(home, op.issuer, "alice");
  assert.equal(refreshed.stdout, `${second.accessToken}\n`);
  assert.notEqual(second.accessToken, first.accessToken);
  assert.ok(Date.parse(second.expiresAt!) > Date.now());
  assert.equal(await userinfoStatus(op, second.accessToken), 200);

  const logout = await runCli(["logout", ...issuerFlag], { configHome: home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.match(logout.stdout, /revoked on the server/);
  assert.equal(await userinfoStatus(op, second.accessToken), 401, "access token revoked");
  assert.equal(await refreshAnswer(op, second.refreshToken!), "invalid_grant", "grant revoked");
  const after = await runCli(["token", ...issuerFlag], { configHome: home });
  assert.equal(after.code, EXIT_CODES.not_logged_in);
  assert.match(after.stderr, new RegExp(`run loopauth login --issuer ${op.issuer}`));
});

Deno.test("issuer: a confidential client logs in with client_secret_basic", async () => {
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const { id, secret } = op.confidential;
  const ok = await login(
    op,
    { configHome: config.home, env: secretEnv({ clientSecret: secret }) },
    "--client-id",
    id,
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `Logged in to ${op.issuer} as alice\n`);
  const wrong = await login(
    op,
    { configHome: config.home, env: secretEnv({ clientSecret: "wrong" }) },
    "--client-id",
    id,
  );
  assert.equal(wrong.code, EXIT_CODES.oauth);
  assert.match(wrong.stderr, /^Error: .*invalid_client/m);
});

Deno.test("issuer: the device flow runs when the metadata advertises device_authorization_endpoint", async () => {
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const cli = new Cli(
    [
      "login",
      "--issuer",
      op.issuer,
      "--client-id",
      op.publicClient,
      "--device",
      "--no-browser",
      "--no-qr",
      "--storage",
      "file",
      "--scopes",
      SCOPES,
    ],
    { configHome: config.home },
  );
  const code = /one-time code: (\S+)/.exec(await cli.waitForLine(/one-time code: /))![1];
  const page = /(http:\/\/\S+\/device)$/.exec(await cli.waitForLine(/enter it: http/))![1];
  // What the user does: open the page with the code (the form posts it with its xsrf).
  const agent = await actAsOidcUser(`${page}?user_code=${code}`, { device: true });
  assert.equal(agent.status, 200);
  const out = await cli.output();
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, `Logged in to ${op.issuer} as alice\n`, "name from userinfo");
  const stored = await storedSecrets(config.home, op.issuer, "alice");
  assert.equal(await userinfoStatus(op, stored.accessToken), 200);
});

Deno.test("issuer: --login-hint is sent as login_hint, --prompt and --param beside it; the login completes", async () => {
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const result = await login(
    op,
    config.home,
    "--client-id",
    op.publicClient,
    "--login-hint",
    "alice",
    "--prompt",
    "login",
    "--param",
    "ui_locales=en",
  );
  assert.equal(result.code, 0, result.stderr);
  const q = result.url.searchParams;
  assert.equal(q.get("login_hint"), "alice");
  assert.equal(q.get("login"), null, "GitHub's name is not sent to an issuer");
  assert.equal(q.get("prompt"), "login");
  assert.equal(q.get("ui_locales"), "en");
  assert.match(q.get("nonce") ?? "", /^[\w-]{43}$/, "loopauth's nonce untouched");
  assert.equal(result.stdout, `Logged in to ${op.issuer} as alice\n`);
});
