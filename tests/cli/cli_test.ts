/**
 * Integration tests: the real CLI (`Deno.execPath()` + main.ts, documented
 * permission flags) against the built-in provider on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { actAsUser } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  Cli,
  isListening,
  loginArgs,
  loginOnce,
  runCli,
  secretEnv,
  tempConfig,
  withProvider,
} from "../helpers.ts";

Deno.test("login stores the token, prints the user; token, api and logout use it", async () => {
  await withProvider(async (provider, configHome) => {
    const { url, page, code, stdout, stderr } = await loginOnce(
      provider,
      configHome,
      "--scopes",
      "read:user,repo",
    );
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.equal(page.status, 200);
    assert.match(page.body, /Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat/);

    const authorize = new URL(url);
    const redirect = new URL(authorize.searchParams.get("redirect_uri")!);
    assert.equal(redirect.hostname, "127.0.0.1");
    assert.equal(redirect.pathname, "/callback");
    assert.equal(authorize.searchParams.get("scope"), "read:user repo");
    assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
    assert.equal(
      await isListening(Number(redirect.port)),
      false,
      "the callback port is closed after login",
    );

    // The URL is printed alone on its own line.
    assert.ok(stderr.split("\n").includes(url));

    const dir = `${configHome}/loopauth`;
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(`${dir}/tokens.json`)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${dir}/config.json`)).mode! & 0o777, 0o600);
    }
    // No keyring in this environment: the file, with the warning naming it.
    assert.match(
      stderr,
      new RegExp(
        `^Warning: token in plain text \\(mode 0600\\) at ${dir}/tokens\\.json$`,
        "m",
      ),
    );
    const stored = JSON.parse(await Deno.readTextFile(`${dir}/tokens.json`));
    const token = stored.hosts[provider.origin].octocat.accessToken;
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(config.hosts[provider.origin].active, "octocat");
    assert.equal(config.hosts[provider.origin].accounts.octocat.storage, "file");
    assert.ok(!JSON.stringify(config).includes(token), "no secret in the config file");
    assert.deepEqual(provider.activeTokens(), [token]);

    // The token exchange sent Accept: application/json and the PKCE verifier.
    const exchange = provider.requests.find((r) => r.path === "/login/oauth/access_token")!;
    assert.equal(exchange.headers.accept, "application/json");
    const sent = new URLSearchParams(exchange.body);
    const secrets = [sent.get("code")!, sent.get("code_verifier")!, token];
    const state = authorize.searchParams.get("state")!;

    // No code, verifier or token anywhere in login's output; state only inside the URL.
    for (const secret of secrets) assert.ok(!stdout.includes(secret) && !stderr.includes(secret));
    assert.ok(!stdout.includes(state));
    assert.equal(stderr.split("\n").filter((l) => l.includes(state)).join(), url);

    const printed = await runCli(["token", "--hostname", provider.origin], { configHome });
    assert.equal(printed.code, 0);
    assert.equal(printed.stdout, `${token}\n`);

    const api = await runCli(["api", "/user", "--hostname", provider.origin], { configHome });
    assert.equal(api.code, 0, api.stderr);
    assert.equal(JSON.parse(api.stdout).login, "octocat");
    const userCall = provider.requests.findLast((r) => r.path === "/api/v3/user")!;
    assert.equal(userCall.headers.authorization, `token ${token}`);
    assert.match(userCall.headers["user-agent"], /^loopauth\//);
    for (const secret of secrets) {
      assert.ok(!api.stdout.includes(secret) && !api.stderr.includes(secret));
    }

    const out = await runCli(["logout", "--hostname", provider.origin], { configHome });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Logged out of .* \(octocat\); the token was revoked/);
    const revoke = provider.requests.find((r) => r.method === "DELETE")!;
    assert.equal(revoke.path, `/api/v3/applications/${provider.clientId}/token`);
    assert.equal(
      revoke.headers.authorization,
      `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
    );
    assert.deepEqual(JSON.parse(revoke.body), { access_token: token });
    assert.deepEqual(provider.activeTokens(), []);
    for (const secret of secrets) {
      assert.ok(!out.stdout.includes(secret) && !out.stderr.includes(secret));
    }

    const gone = await runCli(["token", "--hostname", provider.origin], { configHome });
    assert.equal(gone.code, EXIT_CODES.not_logged_in);
    assert.equal(gone.stdout, "");
    assert.match(
      gone.stderr,
      /^Error: Not logged in to http:\/\/127\.0\.0\.1:\d+: run loopauth login --hostname/,
    );
  });
});

Deno.test("api sends -X and -f to the server", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome)).code, 0);
    const get = await runCli(["api", "user", "-f", "per_page=5", "--hostname", provider.origin], {
      configHome,
    });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(
      provider.requests.findLast((r) => r.path.startsWith("/api/v3/user"))!.path,
      "/api/v3/user?per_page=5",
    );
    const post = await runCli(
      ["api", "-X", "POST", "/user/repos", "-f", "name=hello", "--hostname", provider.origin],
      { configHome },
    );
    assert.equal(post.code, EXIT_CODES.api);
    assert.match(post.stderr, /^Error: 127\.0\.0\.1:\d+ answered HTTP 404: Not Found$/);
    const sent = provider.requests.findLast((r) => r.method === "POST")!;
    assert.equal(sent.path, "/api/v3/user/repos");
    assert.deepEqual(JSON.parse(sent.body), { name: "hello" });
  });
});

Deno.test("consent denied: clear message, exit 4, nothing stored", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(loginArgs(provider), { configHome, env: secretEnv(provider) });
    const page = await actAsUser(await cli.authorizationUrl(), { decision: "cancel" });
    assert.equal(page.status, 200);
    assert.match(page.body, /Access denied/);
    const { code, stdout, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.access_denied);
    assert.equal(stdout, "");
    assert.match(stderr, /Error: Access was denied in the browser: nothing was stored$/);
    await assert.rejects(
      () => Deno.stat(`${configHome}/loopauth/config.json`),
      Deno.errors.NotFound,
    );
  }, { autoApprove: false });
});

Deno.test("timeout: clear message, exit 6, port released, nothing stored", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(loginArgs(provider, "--timeout", "1s"), {
      configHome,
      env: secretEnv(provider),
    });
    const url = await cli.authorizationUrl();
    const port = Number(new URL(new URL(url).searchParams.get("redirect_uri")!).port);
    const { code, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.timeout);
    assert.match(stderr, /Error: Timed out after 1s waiting for the browser/);
    assert.equal(await isListening(port), false);
    await assert.rejects(
      () => Deno.stat(`${configHome}/loopauth/config.json`),
      Deno.errors.NotFound,
    );
  });
});

Deno.test({
  name: "Ctrl-C: exit 130, port released, nothing stored",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const cli = new Cli(loginArgs(provider), { configHome, env: secretEnv(provider) });
      const url = await cli.authorizationUrl();
      const port = Number(new URL(new URL(url).searchParams.get("redirect_uri")!).port);
      cli.child.kill("SIGINT");
      const { code, stderr } = await cli.output();
      assert.equal(code, EXIT_CODES.cancelled);
      assert.match(stderr, /Error: Cancelled$/);
      assert.equal(await isListening(port), false);
      await assert.rejects(
        () => Deno.stat(`${configHome}/loopauth/config.json`),
        Deno.errors.NotFound,
      );
    });
  },
});

Deno.test("--port pins the callback port; a busy port is a clear error", async () => {
  await withProvider(async (provider, configHome) => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    const failed = await runCli(loginArgs(provider, "--port", String(port)), {
      configHome,
      env: secretEnv(provider),
    });
    assert.equal(failed.code, EXIT_CODES.port_in_use);
    assert.match(
      failed.stderr,
      new RegExp(`^Error: Port ${port} on 127\\.0\\.0\\.1 is already in use`),
    );
    busy.close();
    const cli = new Cli(loginArgs(provider, "--port", String(port)), {
      configHome,
      env: secretEnv(provider),
    });
    const url = await cli.authorizationUrl();
    assert.equal(
      new URL(url).searchParams.get("redirect_uri"),
      `http://127.0.0.1:${port}/callback`,
    );
    await actAsUser(url);
    assert.equal((await cli.output()).code, 0);
  });
});

const TOKEN_ERRORS: [string, RegExp][] = [
  ["incorrect_client_credentials", /client ID or client secret is wrong/],
  ["redirect_uri_mismatch", /redirect URI does not match the app's callback URL/],
  ["bad_verification_code", /authorization code is invalid, expired or already used/],
  ["unverified_user_email", /primary email address is not verified/],
  ["unsupported_grant_type", /does not support this grant type/],
];

Deno.test("every GitHub token-endpoint error gives its message, exit 5, nothing stored", async () => {
  await withProvider(async (provider, configHome) => {
    for (const [error, message] of TOKEN_ERRORS) {
      provider.tokenError = error;
      const { page, code, stdout, stderr } = await loginOnce(provider, configHome);
      assert.equal(code, EXIT_CODES.oauth, error);
      assert.equal(stdout, "");
      const last = stderr.trimEnd().split("\n").at(-1)!;
      assert.match(last, new RegExp(`^Error: .*${message.source}`), error);
      assert.match(page.body.replaceAll("&#39;", "'"), message);
      assert.equal(page.status, 200);
    }
    await assert.rejects(
      () => Deno.stat(`${configHome}/loopauth/config.json`),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("a wrong client secret is caught by the real provider too", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(loginArgs(provider), {
      configHome,
      env: secretEnv({ clientSecret: "wrong" }),
    });
    await actAsUser(await cli.authorizationUrl());
    const { code, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.oauth);
    assert.match(
      stderr,
      /Error: The client ID or client secret is wrong: check --client-id and --client-secret$/,
    );
  });
});

Deno.test("logout: a failed revocation still removes the local token, says so, exit 9", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome)).code, 0);
    await provider.close();
    const out = await runCli(["logout", "--hostname", provider.origin], { configHome });
    assert.equal(out.code, EXIT_CODES.revoke_failed);
    assert.match(
      out.stderr,
      /^Error: Removed the local token for http:\/\/127\.0\.0\.1:\d+, but could not revoke it on the server \(cannot reach .*\): it may still be valid, revoke it at http:\/\/127\.0\.0\.1:\d+\/settings\/applications$/,
    );
    const stored = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/tokens.json`));
    assert.deepEqual(stored.hosts, {});
    const config = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/config.json`));
    assert.deepEqual(config.hosts, {});
  });
});

Deno.test("an unreachable host is a network error, exit 7", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(loginArgs(provider), { configHome, env: secretEnv(provider) });
    const url = await cli.authorizationUrl();
    // The user approves, then the provider disappears before the code exchange.
    const location = await fetch(url, { redirect: "manual" }).then(async (r) => {
      await r.body?.cancel();
      return r.headers.get("location")!;
    });
    await provider.close();
    const page = await fetch(location);
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const { code, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.network);
    assert.match(stderr, /Error: Cannot reach the token endpoint of http:\/\/127\.0\.0\.1:\d+: /);
  });
});

Deno.test("usage errors exit 2 with one clear line", async () => {
  await using config = await tempConfig();
  const cases: [string[], RegExp][] = [
    [
      ["login", "--hostnme", "x"],
      /^Error: Unknown flag --hostnme for login \(did you mean --hostname\?\): see loopauth help login$/,
    ],
    [["logn"], /^Error: Unknown command "logn" \(did you mean login\?\): see loopauth --help$/],
    [["login", "--client-id"], /^Error: Flag --client-id of login needs a value/],
    [
      ["login", "--no-browser"],
      /^Error: A client id is needed: pass --client-id or set LOOPAUTH_CLIENT_ID \(register an app as docs\/oauth_app\.md says, or try loopauth with loopauth dev-server\)$/,
    ],
    [
      ["login", "--client-id", "x", "--hostname", "http://example.com"],
      /^Error: Refusing http:\/\/ for example\.com/,
    ],
    [["login", "--client-id", "x", "--timeout", "soon"], /^Error: Invalid duration "soon"/],
    [["login", "--client-id", "x", "--port", "99999"], /^Error: Invalid --port "99999"/],
    [["token", "extra"], /^Error: Unexpected argument "extra" for token/],
    [["api"], /^Error: loopauth api takes one PATH/],
    [["api", "/user", "-f", "novalue"], /^Error: Invalid field "novalue": use -f key=value$/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args, { configHome: config.home });
    assert.equal(code, EXIT_CODES.usage, args.join(" "));
    assert.equal(stdout, "");
    assert.match(stderr, message, args.join(" "));
    assert.equal(
      stderr.trimEnd().split("\n").length,
      1,
      `one line for ${args.join(" ")}: ${stderr}`,
    );
  }
});

Deno.test("help and version", async () => {
  await using config = await tempConfig();
  const help = await runCli(["--help"], { configHome: config.home });
  assert.equal(help.code, 0);
  for (const name of ["login", "token", "api", "logout", "demo", "dev-server"]) {
    assert.match(help.stdout, new RegExp(`\\n  ${name} `));
  }
  const loginHelp = await runCli(["help", "login"], { configHome: config.home });
  assert.equal(loginHelp.code, 0);
  assert.match(loginHelp.stdout, /--client-id ID/);
  assert.match(loginHelp.stdout, /Examples:/);
  assert.equal(
    (await runCli(["login", "--help"], { configHome: config.home })).stdout,
    loginHelp.stdout,
  );
  // Each help's flag lists are whole: a flag line follows its list's heading (`Flags:`) or
  // another flag's lines, never a paragraph (which would split the list in two).
  for (const name of ["login", "token", "api", "logout", "status", "refresh", "doctor", "agent"]) {
    const text = (await runCli(["help", name], { configHome: config.home })).stdout;
    let inList = false;
    for (const line of text.split("\n")) {
      if (/^ {2}-/.test(line)) {
        assert.ok(inList, `help ${name}: a paragraph splits a list at ${line}`);
      } else if (line === "" || !line.startsWith(" ")) inList = line.endsWith(":");
    }
  }
  const version = await runCli(["--version"], { configHome: config.home });
  assert.match(version.stdout, /^loopauth \d+\.\d+\.\d+\n$/);
  const bare = await runCli([], { configHome: config.home });
  assert.equal(bare.code, EXIT_CODES.usage);
});

Deno.test("LOOPAUTH_CLIENT_ID and LOOPAUTH_CLIENT_SECRET stand in for the flags", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(["login", "--hostname", provider.origin, "--no-browser", "--web"], {
      configHome,
      env: { LOOPAUTH_CLIENT_ID: provider.clientId, LOOPAUTH_CLIENT_SECRET: provider.clientSecret },
    });
    await actAsUser(await cli.authorizationUrl());
    const { code, stdout } = await cli.output();
    assert.equal(code, 0);
    assert.match(stdout, /as octocat/);
  });
});

Deno.test({
  name: "the browser is opened through $BROWSER",
  ignore: Deno.build.os === "windows", // the stand-in browser is a sh script
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const seen = `${configHome}/seen-url`;
      const script = `${configHome}/browser.sh`;
      await Deno.writeTextFile(script, `#!/bin/sh\nprintf '%s' "$1" > "${seen}"\n`, {
        mode: 0o755,
      });
      const args = loginArgs(provider).filter((a) => a !== "--no-browser");
      const cli = new Cli(args, { configHome, env: secretEnv(provider, { BROWSER: script }) });
      const url = await cli.authorizationUrl();
      await cli.waitForLine(/Opened your browser/);
      // The browser gets the one-time start URL on the callback port, not the printed URL.
      const start = await Deno.readTextFile(seen);
      const port = new URL(new URL(url).searchParams.get("redirect_uri")!).port;
      assert.match(start, new RegExp(`^http://127\\.0\\.0\\.1:${port}/start/[0-9a-f]{32}$`));
      await actAsUser(start);
      assert.equal((await cli.output()).code, 0);
    });
  },
});

Deno.test("demo: a full headless login against the built-in provider", async () => {
  await using config = await tempConfig();
  const started = performance.now();
  const { code, stdout, stderr } = await runCli(["demo"], { configHome: config.home });
  const elapsed = performance.now() - started;
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat\n/);
  assert.match(stdout, /"login": "octocat"/);
  assert.match(stderr, /approving the consent page automatically/);
  console.log(`demo took ${elapsed.toFixed(0)} ms`);
});
