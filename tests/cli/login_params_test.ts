/**
 * `login --redirect-uri` against a registration that demands its exact
 * redirect (the `dev-server --callback` of a CLI author), and the user's
 * authorization parameters (`--prompt`, `--login-hint`, `--param`): what the
 * provider received, and the refusals, one line each, before anything starts.
 */
import assert from "node:assert/strict";
import { actAsUser } from "../../lib/dev/provider.ts";
import type { DevProvider } from "../../lib/dev/types.ts";
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
import { startDevServer } from "../helpers/dev_server.ts";

/** A port free on both 127.0.0.1 and ::1 right now. */
function freePort(): number {
  for (;;) {
    const v4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = v4.addr as Deno.NetAddr;
    try {
      Deno.listen({ hostname: "::1", port }).close();
      return port;
    } catch {
      continue;
    } finally {
      v4.close();
    }
  }
}

/** The authorization requests the provider received, as URLs. */
function authorizeRequests(provider: DevProvider): URL[] {
  return provider.requests
    .filter((r) => r.method === "GET" && r.path.startsWith("/login/oauth/authorize?"))
    .map((r) => new URL(r.path, provider.origin));
}

Deno.test("login --redirect-uri http://localhost:PORT/cb against dev-server --callback http://localhost:PORT/cb: logged in, the callback server on 127.0.0.1 and ::1 there", async () => {
  await using config = await tempConfig();
  const port = freePort();
  const redirect = `http://localhost:${port}/cb`;
  const server = await startDevServer(["--callback", redirect], config.home);
  let stopped: { stderr: string };
  try {
    const { origin, clientId, clientSecret } = server.info;
    const cli = new Cli(
      [
        "login",
        "--hostname",
        origin,
        "--client-id",
        clientId,
        "--no-browser",
        "--web",
        "--redirect-uri",
        redirect,
      ],
      { configHome: config.home, env: secretEnv({ clientSecret }) },
    );
    const url = new URL(await cli.authorizationUrl());
    assert.equal(url.searchParams.get("redirect_uri"), redirect);
    assert.ok(await isListening(port, { hostname: "127.0.0.1" }), "127.0.0.1");
    assert.ok(await isListening(port, { hostname: "::1" }), "::1");
    const page = await actAsUser(url.href);
    assert.equal(page.status, 200, page.body);
    const out = await cli.output();
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat$/m);
    assert.equal(await isListening(port, { hostname: "127.0.0.1" }), false);
    assert.equal(await isListening(port, { hostname: "::1" }), false);
  } finally {
    stopped = await server.stop();
  }
  // Its hint names the redirect URI, so that it works as printed.
  assert.match(
    stopped.stderr,
    new RegExp(
      `^Try: LOOPAUTH_CLIENT_SECRET=\\S+ loopauth login .* --redirect-uri ${redirect}$`,
      "m",
    ),
  );
});

Deno.test("dev-server --callback with a port refuses another port (redirect_uri_mismatch page), as a provider that demands the exact URI", async () => {
  const port = freePort();
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(loginArgs(provider, "--redirect-uri", `http://localhost:${port + 1}/cb`), {
      configHome,
      env: secretEnv(provider),
    });
    const response = await fetch(await cli.authorizationUrl(), { redirect: "manual" });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /Redirect URI mismatch/);
    assert.equal(authorizeRequests(provider).length, 1);
    cli.child.kill("SIGINT");
    assert.notEqual((await cli.output()).code, 0);
  }, { registeredCallback: `http://localhost:${port}/cb` });
});

Deno.test("login --redirect-uri http://[::1]:PORT/… and http://127.0.0.1/PATH (port from the OS): the provider got exactly that, logged in", async () => {
  const port = freePort();
  await withProvider(async (provider, configHome) => {
    const redirect = `http://[::1]:${port}/oauth2/callback`;
    const out = await loginOnce(provider, configHome, "--redirect-uri", redirect);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(new URL(out.url).searchParams.get("redirect_uri"), redirect);
    assert.equal(out.page.status, 200);
  }, { registeredCallback: "http://[::1]/oauth2/callback" });
  await withProvider(async (provider, configHome) => {
    const out = await loginOnce(provider, configHome, "--redirect-uri", "http://127.0.0.1/a/cb");
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      new URL(out.url).searchParams.get("redirect_uri")!,
      /^http:\/\/127\.0\.0\.1:\d+\/a\/cb$/,
    );
  }, { registeredCallback: "http://127.0.0.1/a/cb" });
});

Deno.test("login --redirect-uri that is not a loopback http URI (a name, https, a query, a fragment, port 0, user info, not canonical), or a --port that differs → usage, one line, nothing sent", async () => {
  await withProvider(async (provider, configHome) => {
    const cases: [string[], RegExp][] = [
      [["--redirect-uri", "http://example.com:8123/cb"], /the host must be 127\.0\.0\.1/],
      [["--redirect-uri", "http://0.0.0.0:8123/cb"], /the host must be/],
      [["--redirect-uri", "https://127.0.0.1:8123/cb"], /a loopback redirect is http:\/\//],
      [["--redirect-uri", "http://127.0.0.1:8123/cb?a=b"], /no query or fragment/],
      [["--redirect-uri", "http://127.0.0.1:8123/cb#x"], /no query or fragment/],
      [["--redirect-uri", "http://localhost:0/cb"], /port 0 is no port a provider accepts/],
      [["--redirect-uri", "http://me:pw@127.0.0.1/cb"], /no user name or password/],
      [["--redirect-uri", "http://LocalHost:8123/cb"], /write it as http:\/\/localhost:8123\/cb/],
      [
        ["--redirect-uri", "http://127.0.0.1:8123/cb", "--port", "8124"],
        /^Error: --port 8124 differs from the port of --redirect-uri: give the port once$/,
      ],
    ];
    for (const [flags, message] of cases) {
      const out = await runCli(loginArgs(provider, ...flags), {
        configHome,
        env: secretEnv(provider),
      });
      assert.equal(out.code, EXIT_CODES.usage, `${flags}: ${out.stderr}`);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      assert.match(out.stderr.trim(), message);
      assert.doesNotMatch(out.stderr, /:pw@/);
    }
    assert.equal(provider.requests.length, 0, "the provider heard nothing");
  });
});

Deno.test("login --prompt, --login-hint and --param (repeated) reach the authorization request; loopauth's own parameters are untouched", async () => {
  await withProvider(async (provider, configHome) => {
    const out = await loginOnce(
      provider,
      configHome,
      "--prompt",
      "login consent",
      "--login-hint",
      "octocat",
      "--param",
      "audience=https://api.example.com",
      "--param",
      "acr_values=urn:mace:incommon:iap:silver",
      "--param=empty=",
    );
    assert.equal(out.code, 0, out.stderr);
    const [sent] = authorizeRequests(provider);
    const q = sent.searchParams;
    assert.equal(q.get("prompt"), "login consent");
    assert.equal(q.get("login"), "octocat", "GitHub's name for the login hint");
    assert.equal(q.get("audience"), "https://api.example.com");
    assert.equal(q.get("acr_values"), "urn:mace:incommon:iap:silver");
    assert.equal(q.get("empty"), "");
    assert.equal(q.getAll("state").length, 1);
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.equal(q.get("response_type"), "code");
    assert.equal(q.get("client_id"), provider.clientId);
  });
});

Deno.test("login --device with --param, --prompt, --login-hint or --redirect-uri → usage, one line, nothing sent; --param beside --login-hint for the same name → usage", async () => {
  await withProvider(async (provider, configHome) => {
    for (
      const flags of [
        ["--param", "audience=x"],
        ["--prompt", "login"],
        ["--login-hint", "octocat"],
        ["--redirect-uri", "http://127.0.0.1/callback"],
      ]
    ) {
      const args = [
        "login",
        "--hostname",
        provider.origin,
        "--client-id",
        provider.clientId,
        "--device",
        ...flags,
      ];
      const out = await runCli(args, { configHome });
      assert.equal(out.code, EXIT_CODES.usage, out.stderr);
      assert.equal(
        out.stderr.trim(),
        "Error: --redirect-uri, --prompt, --login-hint and --param are for the browser flow; the device flow has no place for them: drop them or use --web",
      );
    }
    const both = await runCli(
      loginArgs(provider, "--login-hint", "octocat", "--param", "login=hubot"),
      { configHome, env: secretEnv(provider) },
    );
    assert.equal(both.code, EXIT_CODES.usage);
    assert.equal(both.stderr.trim(), "Error: Give --login-hint or --param login=…, not both");
    const prompt = await runCli(loginArgs(provider, "--prompt", "login&state=x"), {
      configHome,
      env: secretEnv(provider),
    });
    assert.equal(prompt.code, EXIT_CODES.usage);
    assert.match(prompt.stderr.trim(), /^Error: Invalid --prompt "login&state=x": /);
    assert.equal(provider.requests.length, 0, "the provider heard nothing");
  });
});

Deno.test("help login and every shell's completion list --redirect-uri, --prompt, --login-hint and --param", async () => {
  await using config = await tempConfig();
  const help = await runCli(["help", "login"], { configHome: config.home });
  assert.equal(help.code, 0);
  for (const shell of ["bash", "zsh", "fish", "powershell"]) {
    const script = await runCli(["completion", shell], { configHome: config.home });
    assert.equal(script.code, 0, script.stderr);
    for (const flag of ["redirect-uri", "prompt", "login-hint", "param"]) {
      assert.match(help.stdout, new RegExp(`^  --${flag} `, "m"), flag);
      assert.ok(script.stdout.includes(shell === "fish" ? `-l ${flag}` : `--${flag}`), flag);
    }
  }
});

Deno.test("a default login (both routes race here) with --param and --login-hint: a warning that the device flow does not send them; the browser's request carries them", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(
      [
        "login",
        "--hostname",
        provider.origin,
        "--client-id",
        provider.clientId,
        "--no-browser",
        "--param",
        "audience=api",
        "--login-hint",
        "octocat",
      ],
      { configHome, env: secretEnv(provider) },
    );
    await cli.waitForLine(
      /^Warning: the device flow does not send audience, login \(its request has no place for them\); the browser flow does$/,
    );
    const page = await actAsUser(await cli.authorizationUrl());
    assert.equal(page.status, 200, page.body);
    const out = await cli.output();
    assert.equal(out.code, 0, out.stderr);
    const [sent] = authorizeRequests(provider);
    assert.equal(sent.searchParams.get("audience"), "api");
    assert.equal(sent.searchParams.get("login"), "octocat");
    const device = provider.requests.filter((r) => r.path === "/login/device/code");
    assert.equal(device.length, 1, "the device route ran");
    assert.doesNotMatch(device[0].body, /audience|octocat/);
  });
});
