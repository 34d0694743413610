/**
 * Token lifecycle through the real CLI against the built-in provider:
 * refresh of expiring tokens (also two processes at once), revoked and
 * expired sessions, several accounts, status, environment tokens, and git's
 * credential helper driven by real `git credential fill`.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  childEnv,
  gitEnv,
  loginOnce,
  runCli,
  runWithInput,
  storedSecrets,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";

const EXPIRING = { accessTtl: 30, refreshTtl: 3600 }; // inside the 60 s margin: every use refreshes

/** Marks the stored access token as expired (as if its hour had passed). */
async function expireStored(configHome: string, host: string) {
  const past = new Date(Date.now() - 1000).toISOString();
  const configPath = `${configHome}/loopauth/config.json`;
  const config = JSON.parse(await Deno.readTextFile(configPath));
  config.hosts[host].accounts.octocat.expiresAt = past;
  await Deno.writeTextFile(configPath, JSON.stringify(config), { mode: 0o600 });
  const tokensPath = `${configHome}/loopauth/tokens.json`;
  const tokens = JSON.parse(await Deno.readTextFile(tokensPath));
  tokens.hosts[host].octocat.expiresAt = past;
  await Deno.writeTextFile(tokensPath, JSON.stringify(tokens), { mode: 0o600 });
}

Deno.test("expiring tokens: token refreshes once, stores the rotated pair, two processes share one refresh", async () => {
  await withProvider(async (provider, configHome) => {
    const login = await loginOnce(provider, configHome, "--storage", "file");
    assert.equal(login.code, 0, login.stderr);
    const first = await storedSecrets(configHome, provider.origin);
    assert.match(first.accessToken, /^ghu_/);
    assert.match(first.refreshToken!, /^ghr_/);
    const config = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/config.json`));
    assert.ok(Date.parse(config.hosts[provider.origin].accounts.octocat.expiresAt) > Date.now());

    const host = ["--hostname", provider.origin];
    const one = await runCli(["token", ...host], { configHome });
    assert.equal(one.code, 0, one.stderr);
    const [refresh] = tokenRequests(provider, "refresh_token");
    const sent = new URLSearchParams(refresh.body);
    assert.equal(sent.get("refresh_token"), first.refreshToken);
    assert.equal(sent.get("client_id"), provider.clientId);
    assert.equal(refresh.headers.accept, "application/json");
    const second = await storedSecrets(configHome, provider.origin);
    assert.equal(one.stdout, `${second.accessToken}\n`, "prints what was stored");
    assert.notEqual(second.accessToken, first.accessToken);
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.ok(!provider.activeRefreshTokens().includes(first.refreshToken!), "old one spent");
    assert.ok(
      !one.stderr.includes(second.refreshToken!) && !one.stdout.includes(second.refreshToken!),
    );

    // Two processes at the same moment: one refresh, both print its result.
    // The new token lives an hour (outside the margin), so a process that
    // starts after the other's refresh has nothing to refresh.
    provider.expiringTokens = { accessTtl: 3600, refreshTtl: 3600 };
    await expireStored(configHome, provider.origin);
    const [a, b] = await Promise.all([
      runCli(["token", ...host], { configHome }),
      runCli(["token", ...host], { configHome }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(
      tokenRequests(provider, "refresh_token").length,
      2,
      "the refresh token was spent once",
    );
    assert.equal(a.stdout, b.stdout);
    const third = await storedSecrets(configHome, provider.origin);
    assert.equal(a.stdout, `${third.accessToken}\n`);
    assert.deepEqual(provider.activeRefreshTokens(), [third.refreshToken]);

    const api = await runCli(["api", "/user", ...host], { configHome });
    assert.equal(api.code, 0, api.stderr);
    assert.equal(JSON.parse(api.stdout).login, "octocat");

    // The user revokes the app's authorization: the refresh is refused.
    await expireStored(configHome, provider.origin);
    const current = await storedSecrets(configHome, provider.origin);
    const revoked = await fetch(
      `${provider.origin}/api/v3/applications/${provider.clientId}/grant`,
      {
        method: "DELETE",
        headers: {
          authorization: `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
        },
        body: JSON.stringify({ access_token: current.accessToken }),
      },
    );
    assert.equal(revoked.status, 204);
    for (const args of [["token"], ["api", "/user"]]) {
      const expired = await runCli([...args, ...host], { configHome });
      assert.equal(
        expired.code,
        EXIT_CODES.session_expired,
        `${args}: ${expired.stdout} ${expired.stderr}`,
      );
      assert.equal(expired.stdout, "");
      assert.equal(
        expired.stderr,
        `Error: Session for ${provider.origin} expired: run loopauth login --hostname ${provider.origin}`,
      );
    }
  }, { expiringTokens: EXPIRING });
});

Deno.test("an expired refresh token ends the session without asking the server", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const { refreshTokenExpiresAt } = await storedSecrets(configHome, provider.origin);
    assert.ok(refreshTokenExpiresAt, "the refresh token's expiry is stored");
    await waitUntil(() => Date.now() > Date.parse(refreshTokenExpiresAt), {
      what: "the stored refresh token to expire",
    });
    const before = provider.requests.length;
    const expired = await runCli(["token", "--hostname", provider.origin], { configHome });
    assert.equal(expired.code, EXIT_CODES.session_expired);
    assert.match(expired.stderr, /^Error: Session for .* expired: run loopauth login --hostname /);
    assert.equal(provider.requests.length, before);
    const status = await runCli(["status", "--json", "--hostname", provider.origin], {
      configHome,
    });
    assert.equal(status.code, EXIT_CODES.session_expired);
    assert.equal(JSON.parse(status.stdout).hosts[0].accounts[0].state, "expired");
  }, { expiringTokens: { accessTtl: 1, refreshTtl: 1 } });
});

Deno.test("several accounts: --user, switch, status, logout --all", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    provider.user = { login: "hubot", id: 2, name: "Hubot" };
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const host = ["--hostname", provider.origin];
    const octocat = (await storedSecrets(configHome, provider.origin, "octocat")).accessToken;
    const hubot = (await storedSecrets(configHome, provider.origin, "hubot")).accessToken;

    assert.equal((await runCli(["token", ...host], { configHome })).stdout, `${hubot}\n`);
    const picked = await runCli(["token", ...host, "--user", "octocat"], { configHome });
    assert.equal(picked.stdout, `${octocat}\n`);
    const unknown = await runCli(["token", ...host, "--user", "nobody"], { configHome });
    assert.equal(unknown.code, EXIT_CODES.not_logged_in);
    assert.match(
      unknown.stderr,
      /^Error: Not logged in to .* as nobody: run loopauth login --hostname/,
    );

    const switched = await runCli(["switch", ...host, "--user", "octocat"], { configHome });
    assert.equal(switched.code, 0, switched.stderr);
    assert.equal((await runCli(["token", ...host], { configHome })).stdout, `${octocat}\n`);

    const status = await runCli(["status", "--json"], { configHome });
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout);
    assert.equal(report.hosts.length, 1);
    assert.equal(report.hosts[0].host, provider.origin);
    const accounts = report.hosts[0].accounts;
    assert.deepEqual(accounts.map((a: { login: string }) => a.login), ["octocat", "hubot"]);
    assert.deepEqual(accounts.map((a: { active: boolean }) => a.active), [true, false]);
    for (const account of accounts) {
      assert.equal(account.state, "valid");
      assert.equal(account.source, "file");
      assert.equal(account.location, `${configHome}/loopauth/tokens.json`);
      assert.equal(account.clientId, provider.clientId);
      assert.equal(account.tokenExpiresAt, null);
    }
    assert.ok(!status.stdout.includes(octocat) && !status.stdout.includes(hubot));
    const text = await runCli(["status", "--offline"], { configHome });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ {2}octocat \(active\): unchecked$/m);
    assert.match(text.stdout, /^ {2}hubot: unchecked$/m);
    assert.match(text.stdout, /^ {4}token never expires$/m);

    // A token the server no longer accepts: status says so and exits 13.
    await fetch(`${provider.origin}/api/v3/applications/${provider.clientId}/token`, {
      method: "DELETE",
      headers: { authorization: `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}` },
      body: JSON.stringify({ access_token: hubot }),
    }).then((r) => r.body?.cancel());
    const invalid = await runCli(["status"], { configHome });
    assert.equal(invalid.code, EXIT_CODES.session_expired);
    assert.match(invalid.stdout, /^ {2}hubot: invalid$/m);
    assert.match(
      invalid.stderr,
      /^Error: The token of hubot on .* is invalid: run loopauth login --hostname /,
    );

    const out = await runCli(["logout", "--all"], { configHome });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trimEnd().split("\n").length, 2);
    assert.deepEqual(provider.activeTokens(), []);
    const none = await runCli(["status"], { configHome });
    assert.equal(none.code, EXIT_CODES.not_logged_in);
    assert.equal(none.stderr, "Error: Not logged in to any host: run loopauth login");
  });
});

Deno.test("LOOPAUTH_TOKEN and GH_TOKEN win for token and api; status shows source env", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const [stored] = provider.activeTokens();
    const host = ["--hostname", provider.origin];
    const env = { LOOPAUTH_TOKEN: "env_token" };
    assert.equal((await runCli(["token", ...host], { configHome, env })).stdout, "env_token\n");
    const api = await runCli(["api", "/user", ...host], { configHome, env });
    assert.equal(api.code, EXIT_CODES.api, "the server refuses the env token");
    assert.equal(provider.requests.at(-1)!.headers.authorization, "token env_token");
    // GH_TOKEN applies to github.com only.
    const gh = await runCli(["token", ...host], { configHome, env: { GH_TOKEN: "gh" } });
    assert.equal(gh.stdout, `${stored}\n`);
    const status = await runCli(["status", "--json", "--offline", ...host], { configHome, env });
    const accounts = JSON.parse(status.stdout).hosts[0].accounts;
    assert.equal(accounts[0].source, "env");
    assert.equal(accounts[0].location, "LOOPAUTH_TOKEN");
    assert.equal(accounts[0].active, true);
    assert.equal(accounts[1].active, false);
    assert.ok(!status.stdout.includes("env_token"));
  });
});

Deno.test("a corrupted config file: clear error naming it, exit 8", async () => {
  await withProvider(async (provider, configHome) => {
    await Deno.mkdir(`${configHome}/loopauth`, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(`${configHome}/loopauth/config.json`, "{oops", { mode: 0o600 });
    for (const args of [["token"], ["status"], ["logout", "--all"], ["api", "/user"]]) {
      const cli = await runCli([...args, "--hostname", provider.origin], { configHome });
      assert.equal(cli.code, EXIT_CODES.storage, args.join(" "));
      assert.equal(
        cli.stderr,
        `Error: Cannot read ${configHome}/loopauth/config.json: it is not a valid loopauth config file (fix or delete it)`,
      );
    }
  });
});

Deno.test("git credential fill gets the (refreshed) token for a known host, nothing for others", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const env = gitEnv(configHome);
    const setup = await runCli(["setup-git", "--hostname", provider.origin], {
      configHome,
      env,
    });
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(setup.stdout, `Configured git to use loopauth for ${provider.origin}\n`);
    const git = (args: string[], input: string) =>
      runWithInput("git", args, input, { env: { ...childEnv(configHome), ...env } });
    const [, helper] = (await git(
      ["config", "--global", "--get-all", `credential.${provider.origin}.helper`],
      "",
    )).stdout.split("\n");
    // The host, and the agent's socket (a Unix socket, no host).
    assert.match(
      helper,
      /^!\S+ run --quiet --no-prompt .*--allow-net=127\.0\.0\.1:\d+(,unix:\/\S+)* .* git-credential$/,
    );

    const port = new URL(provider.origin).port;
    const known = await git(["credential", "fill"], `protocol=http\nhost=127.0.0.1:${port}\n\n`);
    assert.equal(known.code, 0, known.stderr);
    // The login's token expired within the minute: the helper refreshed it first.
    assert.equal(tokenRequests(provider, "refresh_token").length, 1);
    const token = (await storedSecrets(configHome, provider.origin)).accessToken;
    assert.ok(provider.activeTokens().includes(token));
    assert.match(known.stdout, new RegExp(`^username=octocat$`, "m"));
    assert.match(known.stdout, new RegExp(`^password=${token}$`, "m"));

    // Another host, with the helper set for every URL: no password, git gives up.
    const unknown = await git(
      ["-c", `credential.helper=${helper}`, "credential", "fill"],
      "protocol=https\nhost=example.com\n\n",
    );
    assert.notEqual(unknown.code, 0);
    assert.doesNotMatch(unknown.stdout, /password=/);
    assert.match(unknown.stderr, /terminal prompts disabled/);
  }, { expiringTokens: EXPIRING });
});

Deno.test("status shows an expiry as people read it (expires in 7h 59m (… UTC)); --json keeps ISO times", async () => {
  await withProvider(async (provider, configHome) => {
    const login = await loginOnce(provider, configHome, "--storage", "file");
    assert.equal(login.code, 0, login.stderr);
    const host = ["--hostname", provider.origin];
    const json = JSON.parse(
      (await runCli(["status", "--json", "--offline", ...host], { configHome })).stdout,
    );
    const [account] = json.hosts[0].accounts;
    assert.match(account.tokenExpiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.match(account.refreshTokenExpiresAt, /^\d{4}-\d\d-\d\dT/);
    const minute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
    const text = await runCli(["status", "--offline", ...host], { configHome });
    assert.equal(text.code, 0, text.stderr);
    // An 8-hour token, a moment after the login; a refresh token of about 6 months.
    assert.match(
      text.stdout,
      new RegExp(`^ {4}token expires in 7h 59m \\(${minute(account.tokenExpiresAt)}\\)$`, "m"),
    );
    assert.match(
      text.stdout,
      new RegExp(
        `^ {4}refresh token expires in 18[34]d( \\d+h)? \\(${
          minute(account.refreshTokenExpiresAt)
        }\\)$`,
        "m",
      ),
    );
    assert.ok(!text.stdout.includes(account.tokenExpiresAt), "no raw ISO time in the text");
  }, { expiringTokens: { accessTtl: 8 * 3600, refreshTtl: 15_897_600 } });
});
