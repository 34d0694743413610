/**
 * The attack suite, threat 9 of 9: a token sent where it does not belong. An
 * environment token checked against every stored host (a stale loopback
 * entry whose port another user now holds), a loopback request that goes
 * through `HTTP_PROXY` in clear text, and a stored token that is no token
 * (an old store, a tampered `tokens.json`, a forwarded agent's `set`)
 * printed raw or quoted in an error. See tests/security_test.ts.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { NOT_A_BEARER_TOKEN } from "../../lib/core/token_syntax.ts";
import {
  Cli,
  loginOnce,
  loginWith,
  runCli,
  saveFileAccount,
  storedSecrets,
  tempConfig,
  tokenRequests,
  withProvider,
} from "../helpers.ts";
import { CONTROL, HOSTILE_TOKENS, otherPort } from "../security_helpers.ts";
import { actAsUser } from "../../lib/dev/provider.ts";

/**
 * A GitHub API stand-in on a loopback port that another user could hold:
 * it accepts every token (as a thief would) and records the `Authorization`
 * header of every request it gets.
 */
function thief() {
  const received: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    received.push(request.headers.get("authorization") ?? "");
    return Response.json({ login: "mallory", id: 666 }, { headers: { "X-OAuth-Scopes": "repo" } });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    received,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test("attack: a stale loopback host in the config, another user listens on its port, status runs with LOOPAUTH_TOKEN or GH_ENTERPRISE_TOKEN set → the listener receives no environment token", async () => {
  await using stale = thief();
  await withProvider(async (provider, configHome, dir) => {
    // The host the user works with, and a dev-server session's leftover on a freed port.
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const [token] = provider.activeTokens();
    await saveFileAccount(dir, { host: stale.origin, login: "octocat", accessToken: "gho_stale" });

    const runs: Record<string, string>[] = [
      { LOOPAUTH_HOST: provider.origin, LOOPAUTH_TOKEN: token },
      { GH_HOST: provider.origin, LOOPAUTH_TOKEN: token },
      { LOOPAUTH_HOST: provider.origin, GH_ENTERPRISE_TOKEN: token },
      { GH_HOST: provider.origin, GITHUB_ENTERPRISE_TOKEN: token },
      // No host named: the enterprise token belongs to no host (github.com is the default).
      { GH_ENTERPRISE_TOKEN: token },
    ];
    for (const env of runs) {
      const before = stale.received.length;
      const checks = provider.requests.filter((r) => r.path === "/api/v3/user").length;
      const out = await runCli(["status", "--json"], { configHome, env });
      const what = JSON.stringify(env);
      assert.equal(out.code, 0, `${what}: ${out.stderr}`);
      // The stale host gets one check, with the token stored for it, and nothing else.
      assert.deepEqual(stale.received.slice(before), ["token gho_stale"], what);
      const report = JSON.parse(out.stdout);
      const sources = (key: string) =>
        report.hosts.find((h: { host: string }) => h.host === key)?.accounts
          .map((a: { source: string; location: string }) => `${a.source} ${a.location}`);
      assert.deepEqual(sources(stale.origin), [`file ${dir}/tokens.json`], what);
      const named = Object.keys(env).some((name) => name.endsWith("_HOST"));
      const variable = Object.keys(env).find((name) => name.endsWith("TOKEN"))!;
      assert.deepEqual(
        sources(provider.origin),
        named ? [`env ${variable}`, `file ${dir}/tokens.json`] : [`file ${dir}/tokens.json`],
        what,
      );
      // The named host checked the environment's token and its stored one.
      const now = provider.requests.filter((r) => r.path === "/api/v3/user").length;
      assert.equal(now - checks, named ? 2 : 1, what);
    }
    assert.ok(stale.received.every((header) => !header.includes(token)), "no env token leaked");
  });
});

Deno.test("attack: HTTP_PROXY, http_proxy or ALL_PROXY set, login/token/refresh/api/status/logout against an http://127.0.0.1 provider → the proxy receives nothing, every command works", async () => {
  await using proxy = otherPort();
  for (const variable of ["HTTP_PROXY", "http_proxy", "ALL_PROXY"]) {
    await withProvider(async (provider, configHome) => {
      const env = { [variable]: proxy.origin };
      const host = ["--hostname", provider.origin];
      const login = await loginWith(provider, { configHome, env }, "--storage", "file");
      assert.equal(login.code, 0, `${variable} login: ${login.stderr}`);
      // The access token expires within the minute: token refreshes it first.
      const token = await runCli(["token", ...host], { configHome, env });
      assert.equal(token.code, 0, `${variable} token: ${token.stderr}`);
      assert.equal(tokenRequests(provider, "refresh_token").length, 1, variable);
      assert.equal(
        token.stdout,
        `${(await storedSecrets(configHome, provider.origin)).accessToken}\n`,
      );
      // refresh: a new login for more scopes (the previous token is revoked).
      const refresh = new Cli(["refresh", ...host, "--scopes", "gist", "--web", "--no-browser"], {
        configHome,
        env,
      });
      await actAsUser(await refresh.authorizationUrl());
      const refreshed = await refresh.output();
      assert.equal(refreshed.code, 0, `${variable} refresh: ${refreshed.stderr}`);
      for (const args of [["api", "/user", ...host], ["status", ...host]]) {
        const out = await runCli(args, { configHome, env });
        assert.equal(out.code, 0, `${variable} ${args[0]}: ${out.stderr}`);
      }
      const { accessToken } = await storedSecrets(configHome, provider.origin);
      const logout = await runCli(["logout", ...host], { configHome, env });
      assert.equal(logout.code, 0, `${variable} logout: ${logout.stderr}`);
      assert.ok(!provider.activeTokens().includes(accessToken), `${variable}: revoked`);
    }, { expiringTokens: { accessTtl: 30, refreshTtl: 3600 } });
  }
  assert.equal(proxy.connections(), 0, "the proxy received nothing");
});

/** Stored tokens an attacker who can write the store plants: terminal escapes, header lines. */
const PLANTED = [
  "gho_x\x1b]52;c;ZWNobyBwd25lZA==\x07",
  "gho_x\x1b[2J",
  "gho_x\r\nX-Evil: 1",
  ...HOSTILE_TOKENS,
];

Deno.test("attack: a tampered tokens.json holds a token (or an expiry time) with ESC ]52 / CR LF → token, api and status refuse in one line without printing it, the server receives nothing", async () => {
  await withProvider(async (provider, configHome, dir) => {
    const host = ["--hostname", provider.origin];
    for (const planted of PLANTED) {
      await saveFileAccount(dir, { host: provider.origin, login: "octocat", accessToken: planted });
      const before = provider.requests.length;
      for (const args of [["token", ...host], ["api", "/user", ...host], ["status", ...host]]) {
        const out = await runCli(args, { configHome });
        const what = `${JSON.stringify(planted)} ${args[0]}`;
        assert.equal(out.code, EXIT_CODES.storage, `${what}: ${out.stderr}`);
        assert.equal(out.stdout, "", what);
        assert.equal(
          out.stderr,
          `Error: The token of octocat on ${provider.origin} in ${dir}/tokens.json ${NOT_A_BEARER_TOKEN}: run loopauth login --hostname ${provider.origin}`,
          what,
        );
        assert.doesNotMatch(out.stderr, CONTROL, what);
        assert.ok(!out.stderr.includes("gho_x"), what);
      }
      assert.equal(provider.requests.length, before, "the server received nothing");
    }
    // An expiry time is shown by status and decides refreshes: a time, or refused the same way.
    await saveFileAccount(dir, { host: provider.origin, login: "octocat", accessToken: "gho_ok" });
    const file = `${dir}/tokens.json`;
    const data = JSON.parse(await Deno.readTextFile(file));
    for (const field of ["expiresAt", "refreshTokenExpiresAt"]) {
      const secrets = { ...data.hosts[provider.origin].octocat };
      secrets[field] = "2099-01-01T00:00:00Z\x1b]52;c;ZWNobyBwd25lZA==\x07";
      const planted = { ...data, hosts: { [provider.origin]: { octocat: secrets } } };
      await Deno.writeTextFile(file, JSON.stringify(planted), { mode: 0o600 });
      for (const args of [["token", ...host], ["status", ...host]]) {
        const out = await runCli(args, { configHome });
        assert.equal(out.code, EXIT_CODES.storage, `${field} ${args[0]}: ${out.stderr}`);
        assert.equal(out.stdout, "");
        assert.equal(
          out.stderr,
          `Error: The token of octocat on ${provider.origin} in ${file} has an expiry that is no time: run loopauth login --hostname ${provider.origin}`,
        );
      }
    }
    // The hint works as printed (the app's id and secret in the variables a user sets once).
    const refused = await runCli(["token", ...host], { configHome });
    const hint = /: run (loopauth login .*)$/.exec(refused.stderr)![1];
    const cli = new Cli(hint.split(" ").slice(1), {
      configHome,
      env: { LOOPAUTH_CLIENT_ID: provider.clientId, LOOPAUTH_CLIENT_SECRET: provider.clientSecret },
    });
    await actAsUser(await cli.authorizationUrl());
    const login = await cli.output();
    assert.equal(login.code, 0, login.stderr);
    const token = await runCli(["token", ...host], { configHome });
    assert.equal(token.code, 0, token.stderr);
    assert.equal(
      token.stdout,
      `${(await storedSecrets(configHome, provider.origin)).accessToken}\n`,
    );
  });
});

Deno.test("attack: a server quotes the token it was sent in its error message → api prints the message without it", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      Response.json(
        { message: `Bad credentials (${request.headers.get("authorization")})` },
        { status: 401 },
      ),
  );
  try {
    await using config = await tempConfig();
    const host = `127.0.0.1:${server.addr.port}`;
    const token = "ghp_quotedBackToTheTerminal0123";
    const out = await runCli(["api", "/user", "--hostname", `http://${host}`], {
      configHome: config.home,
      env: { LOOPAUTH_TOKEN: token },
    });
    assert.equal(out.code, EXIT_CODES.api, out.stderr);
    assert.equal(
      out.stderr,
      `Error: ${host} answered HTTP 401: Bad credentials (token …): the token in LOOPAUTH_TOKEN was refused: set it to a valid token, or unset it to use the stored login`,
    );
    assert.ok(!out.stderr.includes(token));
  } finally {
    await server.shutdown();
  }
});
