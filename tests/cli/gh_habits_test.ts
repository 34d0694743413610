/**
 * Habits from gh, through the real CLI against the built-in provider:
 * `login --with-token`, `refresh --scopes` / `--remove-scopes`, the default
 * host from LOOPAUTH_HOST / GH_HOST, GH_ENTERPRISE_TOKEN and
 * GITHUB_ENTERPRISE_TOKEN by gh's rules (source env in status), `--json`
 * on logout and switch, and `completion powershell`.
 */
import assert from "node:assert/strict";
import { actAsUser, type DevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { NOT_A_BEARER_TOKEN } from "../../lib/core/token_syntax.ts";
import { envToken, envTokenVariables } from "../../lib/ops/token.ts";
import {
  childEnv,
  Cli,
  type CliOutput,
  loginOnce,
  MAIN,
  providerLoginArgs,
  runCli,
  runFlags,
  runWithInput,
  secretEnv,
  storedSecrets,
  tempConfig,
  Tmux,
  tokenRequests,
  withProvider,
} from "../helpers.ts";

/** The CLI with `input` on stdin (a pipe, not a terminal). */
async function cliWithInput(
  args: string[],
  options: { configHome: string; env?: Record<string, string> },
  input: string,
): Promise<CliOutput> {
  const output = await runWithInput(
    Deno.execPath(),
    ["run", ...runFlags(`${options.configHome}/loopauth`), MAIN, ...args],
    input,
    { env: childEnv(options.configHome, options.env) },
  );
  // stderr as Cli gives it: lines joined, no final line break.
  return { ...output, stderr: output.stderr.replace(/\n$/, "") };
}

/** A valid token of the provider's user, from a login in a config of its own. */
async function providerToken(provider: DevProvider, ...scopes: string[]): Promise<string> {
  await using other = await tempConfig();
  const login = await loginOnce(
    provider,
    other.home,
    "--storage",
    "file",
    ...(scopes.length ? ["--scopes", scopes.join(",")] : []),
  );
  assert.equal(login.code, 0, login.stderr);
  return (await storedSecrets(other.home, provider.origin)).accessToken;
}

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("login --with-token checks the token with GET /user and stores it like a login", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const token = await providerToken(provider, "read:user", "repo");
    const args = ["login", "--with-token", "--hostname", provider.origin, "--storage", "file"];
    const before = provider.requests.length;
    const login = await cliWithInput(args, { configHome }, `${token}\n`);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.equal(
      login.stderr,
      `Warning: token in plain text (mode 0600) at ${configDir}/tokens.json`,
    );
    const checked = provider.requests.slice(before);
    assert.deepEqual(checked.map((r) => `${r.method} ${r.path}`), ["GET /api/v3/user"]);
    assert.equal(checked[0].headers.authorization, `token ${token}`);
    const config = await readJson(`${configDir}/config.json`);
    const record = config.hosts[provider.origin].accounts.octocat;
    assert.deepEqual(record.scopes, ["read:user", "repo"], "scopes from X-OAuth-Scopes");
    assert.equal(record.storage, "file");
    assert.equal(record.clientId, "");
    assert.equal((await storedSecrets(configHome, provider.origin)).accessToken, token);

    const printed = await runCli(["token", "--hostname", provider.origin], { configHome });
    assert.equal(printed.stdout, `${token}\n`);

    // --json: the same warning on stderr, expiresAt null, never the token.
    const json = await cliWithInput([...args, "--json"], { configHome }, token);
    assert.equal(json.code, 0, json.stderr);
    assert.match(json.stderr, /^Warning: token in plain text \(mode 0600\) at /);
    assert.ok(!json.stdout.includes(token));
    assert.deepEqual(JSON.parse(json.stdout), {
      host: provider.origin,
      login: "octocat",
      scopes: ["read:user", "repo"],
      tokenType: "bearer",
      expiresAt: null,
      storage: "file",
      storedIn: `${configDir}/tokens.json`,
      flow: "token",
    });

    // loopauth did not make it: logout removes it here and says it stays valid.
    const logout = await runCli(["logout", "--hostname", provider.origin, "--json"], {
      configHome,
    });
    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual(JSON.parse(logout.stdout), [
      { host: provider.origin, login: "octocat", revoked: false },
    ]);
    assert.ok(provider.activeTokens().includes(token), "not revoked");
    assert.deepEqual((await readJson(`${configDir}/tokens.json`)).hosts, {});
  });
});

Deno.test("login --with-token: a refused, malformed or missing token is one line that never shows it", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const args = ["login", "--with-token", "--hostname", provider.origin, "--storage", "file"];
    const refused = await cliWithInput(args, { configHome }, "gho_notAValidToken123\n");
    assert.equal(refused.code, EXIT_CODES.oauth);
    assert.equal(
      refused.stderr,
      `Error: ${
        new URL(provider.origin).host
      } refused the token (HTTP 401): check that it is the whole token, for ${provider.origin}, and not expired or revoked`,
    );
    assert.ok(!refused.stderr.includes("gho_notAValidToken123"));
    assert.equal(refused.stdout, "");

    const malformed = await cliWithInput(args, { configHome }, "gho_two words\n");
    assert.equal(malformed.code, EXIT_CODES.usage);
    assert.equal(malformed.stderr, `Error: The token on stdin ${NOT_A_BEARER_TOKEN}`);

    const empty = await cliWithInput(args, { configHome }, "\n");
    assert.equal(empty.code, EXIT_CODES.usage);
    assert.match(empty.stderr, /^Error: No token on stdin: pipe one in, e\.g\. /);

    const scopes = await cliWithInput([...args, "--scopes", "repo"], { configHome }, "x");
    assert.equal(scopes.code, EXIT_CODES.usage);
    assert.equal(
      scopes.stderr,
      "Error: --with-token takes no --scopes: the token is used as it was made",
    );
    const config = await readJson(`${configDir}/config.json`).catch(() => ({ hosts: {} }));
    assert.deepEqual(config.hosts, {}, "nothing stored");
  });
});

Deno.test("login --with-token on a terminal: the pasted token is not shown", async () => {
  await withProvider(async (provider, configHome) => {
    const token = await providerToken(provider);
    await using tmux = await Tmux.start(
      ["login", "--with-token", "--hostname", provider.origin, "--storage", "file"],
      { configHome },
    );
    await tmux.waitFor(/Paste the token \(it is not shown\), then press Enter: $/m);
    await tmux.typeLine(token);
    const screen = await tmux.waitUntil((text) => /\[exit \d+\]/.test(text));
    assert.match(screen, /\[exit 0\]/, screen);
    assert.match(screen, new RegExp(`^Logged in to ${provider.origin} as octocat$`, "m"));
    assert.ok(!screen.includes(token), `the token is not on the screen:\n${screen}`);
    assert.equal((await storedSecrets(configHome, provider.origin)).accessToken, token);
  });
});

/** `refresh` through the browser flow, acted on by the provider's user. */
async function refresh(provider: DevProvider, configHome: string, ...extra: string[]) {
  const cli = new Cli(
    ["refresh", "--hostname", provider.origin, "--no-browser", "--web", ...extra],
    { configHome },
  );
  const url = new URL(await cli.authorizationUrl());
  await actAsUser(url.href);
  return { url, ...(await cli.output()) };
}

Deno.test("refresh --scopes asks for the union, keeps account and storage, revokes the old token", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const login = await loginOnce(
      provider,
      configHome,
      "--storage",
      "file",
      "--scopes",
      "read:user",
    );
    assert.equal(login.code, 0, login.stderr);
    const first = (await storedSecrets(configHome, provider.origin)).accessToken;

    const added = await refresh(provider, configHome, "--scopes", "repo,gist");
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.url.searchParams.get("scope"), "read:user repo gist");
    assert.equal(added.url.searchParams.get("client_id"), provider.clientId);
    assert.equal(
      added.stdout,
      `Refreshed ${provider.origin} as octocat: scopes read:user, repo, gist\n`,
    );
    const second = (await storedSecrets(configHome, provider.origin)).accessToken;
    assert.notEqual(second, first);
    assert.deepEqual(provider.activeTokens(), [second], "the old token was revoked");
    const config = await readJson(`${configDir}/config.json`);
    assert.deepEqual(Object.keys(config.hosts[provider.origin].accounts), ["octocat"]);
    const record = config.hosts[provider.origin].accounts.octocat;
    assert.equal(record.storage, "file");
    assert.deepEqual(record.scopes, ["read:user", "repo", "gist"]);

    const removed = await refresh(provider, configHome, "--remove-scopes", "gist", "--json");
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.url.searchParams.get("scope"), "read:user repo");
    const result = JSON.parse(removed.stdout);
    assert.equal(result.login, "octocat");
    assert.deepEqual(result.scopes, ["read:user", "repo"]);
    assert.equal(result.expiresAt, null);
    assert.equal(result.previousRevoked, true);
    assert.ok(!removed.stdout.includes(provider.activeTokens()[0]), "no token in --json output");
    // Three code exchanges, one per login; nothing else asked the token endpoint.
    assert.equal(tokenRequests(provider).length, 3);
  });
});

Deno.test("refresh: signing in as another user changes nothing, exit 4", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const before = await storedSecrets(configHome, provider.origin);
    provider.user = { login: "hubot", id: 480938, name: "Hubot" };
    const other = await refresh(provider, configHome, "--scopes", "repo");
    assert.equal(other.code, EXIT_CODES.access_denied);
    assert.equal(
      other.stderr.split("\n").at(-1),
      `Error: Logged in as hubot, not octocat: nothing was changed; sign in as octocat in the browser and run loopauth refresh --hostname ${provider.origin} --scopes repo`,
    );
    assert.deepEqual(await storedSecrets(configHome, provider.origin), before);
    assert.deepEqual(provider.activeTokens(), [before.accessToken], "hubot's token was revoked");
    // The hint as printed, signed in as octocat this time: the account gets repo.
    provider.user = { login: "octocat", id: 1, name: "The Octocat" };
    const hint = /and run loopauth (refresh .+)$/.exec(other.stderr)![1].split(" ");
    const cli = new Cli(hint, { configHome });
    await actAsUser(await cli.authorizationUrl());
    const again = await cli.output();
    assert.equal(again.code, 0, again.stderr);
    const config = await readJson(`${configHome}/loopauth/config.json`);
    assert.ok(config.hosts[provider.origin].accounts.octocat.scopes.includes("repo"));
    const none = await runCli(["refresh", "--hostname", "ghe.example.com"], { configHome });
    assert.equal(none.code, EXIT_CODES.not_logged_in);
    assert.match(none.stderr, /^Error: Not logged in to ghe\.example\.com: run loopauth login/);
  });
});

Deno.test("LOOPAUTH_HOST, then GH_HOST, name the default host; --hostname wins; a bad one names its variable", async () => {
  await withProvider(async (provider, configHome) => {
    // login with no --hostname goes to the default host.
    const args = providerLoginArgs(provider, "--no-browser", "--web", "--storage", "file")
      .filter((a, i, all) => a !== "--hostname" && all[i - 1] !== "--hostname");
    const cli = new Cli(args, {
      configHome,
      env: secretEnv(provider, { GH_HOST: provider.origin }),
    });
    const url = await cli.authorizationUrl();
    assert.ok(url.startsWith(`${provider.origin}/login/oauth/authorize?`), url);
    await actAsUser(url);
    assert.equal((await cli.output()).code, 0);
    const token = (await storedSecrets(configHome, provider.origin)).accessToken;

    const cases: Record<string, string>[] = [
      { LOOPAUTH_HOST: provider.origin },
      { GH_HOST: provider.origin },
      { LOOPAUTH_HOST: provider.origin, GH_HOST: "ghe.invalid" },
    ];
    for (const env of cases) {
      const out = await runCli(["token"], { configHome, env });
      assert.equal(out.stdout, `${token}\n`, JSON.stringify(env));
    }
    const api = await runCli(["api", "/user"], { configHome, env: { GH_HOST: provider.origin } });
    assert.equal(JSON.parse(api.stdout).login, "octocat");
    const flag = await runCli(["token", "--hostname", provider.origin], {
      configHome,
      env: { LOOPAUTH_HOST: "ghe.invalid" },
    });
    assert.equal(flag.stdout, `${token}\n`);
    const elsewhere = await runCli(["token"], { configHome, env: { GH_HOST: "ghe.invalid" } });
    assert.equal(elsewhere.code, EXIT_CODES.not_logged_in);
    assert.match(elsewhere.stderr, /^Error: Not logged in to ghe\.invalid: /);

    const bad = await runCli(["token"], {
      configHome,
      env: { LOOPAUTH_HOST: "http://example.com" },
    });
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.equal(
      bad.stderr,
      "Error: LOOPAUTH_HOST does not name a host (refusing http:// for example.com: only loopback addresses (127.0.0.1, [::1]) may use http://): fix or unset LOOPAUTH_HOST",
    );

    // switch --json, on the default host.
    provider.user = { login: "hubot", id: 480938, name: "Hubot" };
    const again = new Cli(args, { configHome, env: { GH_HOST: provider.origin } });
    await actAsUser(await again.authorizationUrl());
    assert.equal((await again.output()).code, 0);
    const switched = await runCli(["switch", "--json"], {
      configHome,
      env: { LOOPAUTH_HOST: provider.origin },
    });
    assert.equal(switched.code, 0, switched.stderr);
    assert.deepEqual(JSON.parse(switched.stdout), { host: provider.origin, login: "octocat" });
  });
});

Deno.test("GH_ENTERPRISE_TOKEN, GITHUB_ENTERPRISE_TOKEN serve GitHub Enterprise Server hosts by gh's rules; status shows source env", async () => {
  await withProvider(async (provider) => {
    const token = await providerToken(provider, "repo");
    await using empty = await tempConfig();
    const configHome = empty.home;
    const host = ["--hostname", provider.origin];
    const tokenWith = (env: Record<string, string>) =>
      runCli(["token", ...host], { configHome, env });
    assert.equal((await tokenWith({ GH_ENTERPRISE_TOKEN: token })).stdout, `${token}\n`);
    assert.equal((await tokenWith({ GITHUB_ENTERPRISE_TOKEN: token })).stdout, `${token}\n`);
    assert.equal(
      (await tokenWith({ GH_ENTERPRISE_TOKEN: token, GITHUB_ENTERPRISE_TOKEN: "other" })).stdout,
      `${token}\n`,
    );
    assert.equal(
      (await tokenWith({ LOOPAUTH_TOKEN: "first", GH_ENTERPRISE_TOKEN: token })).stdout,
      "first\n",
    );
    // GH_TOKEN and GITHUB_TOKEN are github.com's; GITHUB_TOKEN serves GHES only in a Codespace.
    for (const env of [{ GH_TOKEN: token }, { GITHUB_TOKEN: token }] as Record<string, string>[]) {
      assert.equal((await tokenWith(env)).code, EXIT_CODES.not_logged_in, JSON.stringify(env));
    }
    assert.equal(
      (await tokenWith({ GITHUB_TOKEN: token, CODESPACES: "true" })).stdout,
      `${token}\n`,
    );

    const status = await runCli(["status", ...host, "--json"], {
      configHome,
      env: { GH_ENTERPRISE_TOKEN: token },
    });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).hosts, [{
      host: provider.origin,
      accounts: [{
        login: "octocat",
        active: true,
        source: "env",
        location: "GH_ENTERPRISE_TOKEN",
        clientId: null,
        scopes: ["repo"],
        tokenExpiresAt: null,
        refreshTokenExpiresAt: null,
        state: "valid",
      }],
    }]);
    // Without --hostname: the default host's environment token shows too.
    const all = await runCli(["status"], {
      configHome,
      env: { GITHUB_ENTERPRISE_TOKEN: token, LOOPAUTH_HOST: provider.origin },
    });
    assert.equal(all.code, 0, all.stderr);
    assert.match(
      all.stdout,
      new RegExp(
        `^${provider.origin}\n  octocat \\(active\\): valid\n    source: env GITHUB_ENTERPRISE_TOKEN\n`,
      ),
    );
  });
});

Deno.test("envTokenVariables follows go-gh's tokenForHost", () => {
  const none = () => undefined;
  const github = ["LOOPAUTH_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"];
  const enterprise = ["LOOPAUTH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"];
  for (
    const host of ["github.com", "GitHub.com", "api.github.com", "acme.ghe.com", "github.localhost"]
  ) {
    assert.deepEqual(envTokenVariables(host, none), github, host);
  }
  for (
    const host of ["ghe.example.com", "ghe.example.com:8443", "http://127.0.0.1:8080", "ghe.com"]
  ) {
    assert.deepEqual(envTokenVariables(host, none), enterprise, host);
  }
  const codespace = (name: string) => (name === "CODESPACES" ? "1" : undefined);
  assert.deepEqual(envTokenVariables("ghe.example.com", codespace), [
    ...enterprise,
    "GITHUB_TOKEN",
  ]);
  assert.deepEqual(
    envTokenVariables({ key: "https://id.example.com", issuer: true }, none),
    ["LOOPAUTH_TOKEN"],
  );
  const env = (values: Record<string, string>) => (name: string) => values[name];
  assert.deepEqual(
    envToken("ghe.example.com", env({ GH_TOKEN: "a", GITHUB_ENTERPRISE_TOKEN: "b" })),
    {
      token: "b",
      variable: "GITHUB_ENTERPRISE_TOKEN",
    },
  );
  assert.throws(
    () => envToken("ghe.example.com", env({ GH_ENTERPRISE_TOKEN: "two words" })),
    {
      message: `GH_ENTERPRISE_TOKEN ${NOT_A_BEARER_TOKEN}: set it to the token alone, or unset it`,
    },
  );
});

Deno.test("completion powershell: a native completer of every subcommand and its flags", async () => {
  await using config = await tempConfig();
  const out = await runCli(["completion", "powershell"], { configHome: config.home });
  assert.equal(out.code, 0, out.stderr);
  const script = out.stdout;
  assert.match(
    script,
    /^Register-ArgumentCompleter -Native -CommandName 'loopauth', 'loopauth\.exe', 'loopauth\.cmd' -ScriptBlock \{$/m,
  );
  assert.match(script, /^ {2}param\(\$wordToComplete, \$commandAst, \$cursorPosition\)$/m);
  for (const name of ["login", "token", "refresh", "doctor", "setup-git", "completion", "help"]) {
    assert.match(script, new RegExp(`^ {4}'${name}' = @\\(`, "m"), name);
  }
  assert.match(script, /^ {4}'login' = @\(.*'--with-token'.*\)$/m);
  assert.match(script, /^ {4}'refresh' = @\(.*'--scopes', .*'--remove-scopes'.*\)$/m);
  assert.match(
    script,
    /^ {4}'doctor' = 'Check what a login needs: host, metadata, storage, proxy'$/m,
  );
  // Balanced braces and parentheses, and every single-quoted string closed on its line.
  for (const [open, close] of [["{", "}"], ["(", ")"]]) {
    assert.equal(script.split(open).length, script.split(close).length, `${open}${close}`);
  }
  for (const line of script.split("\n")) {
    assert.equal(line.replaceAll("''", "").split("'").length % 2, 1, line);
  }
  const bad = await runCli(["completion", "tcsh"], { configHome: config.home });
  assert.equal(bad.stderr, 'Error: Unknown shell "tcsh": use bash, zsh, fish or powershell');
});
