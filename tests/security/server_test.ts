/**
 * The attack suite, threat 3 of 9: a malicious or compromised server (a
 * GitHub Enterprise Server, an OAuth/OIDC issuer, the built-in provider).
 * What it answers is input: user names that carry git-credential lines,
 * terminal escapes or keyring commands, tokens with CR/LF, metadata that
 * sends a token over plain http, an `iss` of another issuer, and answers
 * that are no OAuth answer at all; and the server loopauth is installed
 * from (install.sh): code changed after the install, plain http on the way.
 * See tests/security_test.ts.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import fc from "npm:fast-check@^4";
import { EXIT_CODES, LoopauthError } from "../../lib/core/errors.ts";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { approveDeviceCode } from "../../lib/dev/provider.ts";
import { terminalSafe } from "../../lib/core/text.ts";
import { VERSION } from "../../lib/core/version.ts";
import { serveCallback } from "../../lib/flows/callback_server.ts";
import { discoverIssuer, exchangeIssuerCode } from "../../lib/providers/oidc.ts";
import { exchangeCode, parseTokenResponse } from "../../lib/providers/github.ts";
import { resolveGitHubHost } from "../../lib/providers/github_host.ts";
import { runFlags as documentedFlags } from "../../scripts/permissions.ts";
import {
  childEnv,
  Cli,
  isListening,
  loginOnce,
  providerLoginArgs,
  runCli,
  secretEnv,
  serveCheckout,
  SOURCE_DIR,
  startKeyring,
  storedSecrets,
  tempConfig,
  tempDir,
  Tmux,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";
import { BASE_TOOLS, readmeInstall, shell, toolsDir } from "../helpers/install.ts";
import { actAsOidcUser, startOidcProvider } from "../oidc_helpers.ts";
import {
  CONTROL,
  exists,
  get,
  HOSTILE_TOKENS,
  refusesCleanly,
  STATE,
  storedFiles,
} from "../security_helpers.ts";

// The names it gives: every one ends on a terminal, in git's credential lines or a keyring.

/** Logins a hostile GitHub or GHES server (or the built-in provider) might answer. */
const HOSTILE_LOGINS = [
  "attacker\nurl=https://github.com/\nusername=attacker",
  "\x1b]0;pwned\x07\x1b[2Jmona",
  "mona\r\npassword=x",
  "mona\0",
  'mona" -A -s "x',
  "--help",
  "-mona",
  "mona-",
  "mo--na",
  "m".repeat(40),
  "mona lisa",
  "",
];

Deno.test("attack: a server answers GET /user with a login outside GitHub's grammar → clear error, nothing stored or echoed", async () => {
  const user = { login: "octocat", id: 1, name: "Mona" };
  await withProvider(async (provider, configHome, configDir) => {
    for (const login of HOSTILE_LOGINS) {
      user.login = login;
      const cli = await loginOnce(provider, configHome);
      const shown = JSON.stringify(login);
      assert.equal(cli.code, EXIT_CODES.api, `${shown}: ${cli.stderr}`);
      assert.equal(cli.stdout, "");
      assert.match(
        cli.stderr.split("\n").at(-1)!,
        /^Error: 127\.0\.0\.1:\d+ answered GET \/user with a login that is not a GitHub user name \(letters, digits and single hyphens, at most 39 characters\): nothing was stored$/,
      );
      assert.doesNotMatch(cli.stderr, CONTROL, `${shown}: no control characters`);
      if (login) assert.ok(!cli.page.body.includes(login), `${shown}: not on the browser page`);
      assert.deepEqual(await storedFiles(configDir), [], `${shown}: nothing stored`);
    }
    // Names that follow the grammar still log in.
    for (const login of ["mona", "Mona-Lisa-2", "m".repeat(39)]) {
      user.login = login;
      const cli = await loginOnce(provider, configHome);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.stdout, `Logged in to ${provider.origin} as ${login}\n`);
    }
  }, { user });
});

Deno.test("attack: a server names an env token's user with escape sequences → status shows no login, prints no control character", async () => {
  const user = { login: "octocat", id: 1, name: "Mona" };
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome)).code, 0);
    const [token] = provider.activeTokens();
    user.login = "\x1b]0;pwned\x07\x1b[2Jmona";
    const options = { configHome, env: { LOOPAUTH_TOKEN: token } };
    const text = await runCli(["status", "--hostname", provider.origin], options);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ {2}\(unknown login\) \(active\): valid$/m);
    assert.doesNotMatch(text.stdout + text.stderr, CONTROL);
    const json = await runCli(["status", "--json", "--hostname", provider.origin], options);
    assert.equal(JSON.parse(json.stdout).hosts[0].accounts[0].login, null);
  }, { user });
});

Deno.test("attack: an issuer names the user with quotes, newlines and escape sequences → stored and shown without them", async () => {
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const cli = new Cli([
    "login",
    "--issuer",
    op.issuer,
    "--client-id",
    op.publicClient,
    "--no-browser",
    "--web",
    "--storage",
    "file",
    "--scopes",
    "openid profile",
  ], { configHome: config.home });
  const url = await cli.waitForLine(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
  await actAsOidcUser(url, { login: `mallory"\n\x1b[2J'\u202e\u2028--x\`` });
  const login = await cli.output();
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, `Logged in to ${op.issuer} as mallory[2J--x\n`);
  const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
  assert.deepEqual(Object.keys(stored.hosts[op.issuer].accounts), ["mallory[2J--x"]);
  const status = await runCli(["status", "--offline"], { configHome: config.home });
  assert.match(status.stdout, /^ {2}mallory\[2J--x \(active\): unchecked$/m);
  assert.doesNotMatch(status.stdout + status.stderr, CONTROL);
});
Deno.test("attack: any text with control characters (fast-check), as a server's name or message → terminalSafe leaves none", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => {
      // deno-lint-ignore no-control-regex -- it looks for control characters on purpose
      assert.doesNotMatch(terminalSafe(text), /[\u0000-\u001f\u007f-\u009f]/);
    }),
  );
});

// Storing those names: the macOS Keychain's `security -i` and the Secret Service's `secret-tool`.

/**
 * How `security -i` reads its input, after Apple's security.c: lines of at
 * most 4095 bytes (the rest of a longer one is the next line), each split
 * into arguments by `split_line` (whitespace separates; an argument that
 * starts with a quote ends at the same quote; a backslash makes the next
 * character literal).
 */
function securityCommands(input: string): string[][] {
  const bytes = new TextEncoder().encode(input);
  const lines: string[] = [];
  let line: number[] = [];
  for (const byte of bytes) {
    if (byte === 0x0a) {
      lines.push(new TextDecoder().decode(new Uint8Array(line)));
      line = [];
      continue;
    }
    line.push(byte);
    if (line.length === 4095) {
      lines.push(new TextDecoder().decode(new Uint8Array(line)));
      line = [];
    }
  }
  const commands: string[][] = [];
  for (const text of lines) {
    const args: string[] = [];
    let arg: string | undefined;
    let quote: string | undefined;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (arg === undefined) {
        if (/\s/.test(c)) continue;
        arg = "";
        if (c === '"' || c === "'") {
          quote = c;
          continue;
        }
      }
      if (c === "\\") arg += text[++i] ?? "";
      else if (quote !== undefined ? c === quote : /\s/.test(c)) {
        args.push(arg);
        [arg, quote] = [undefined, undefined];
      } else arg += c;
    }
    if (arg !== undefined) args.push(arg);
    if (args.length) commands.push(args);
  }
  return commands;
}

const KEYRING_STORE = fileURLToPath(
  new URL("../fixtures/keyring_store_darwin.ts", import.meta.url),
);

/** Stores an account through the macOS store, with a stand-in `security` that records its input. */
async function storeThroughSecurity(home: string, host: string, login: string, secrets: object) {
  const bin = `${home}/bin`;
  await Deno.mkdir(bin, { recursive: true, mode: 0o700 });
  await Deno.remove(`${bin}/stdin`).catch(() => {});
  await Deno.writeTextFile(
    `${bin}/security`,
    '#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args"\ncat > "$(dirname "$0")/stdin"\n',
    { mode: 0o755 },
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--allow-run=${bin}/security`,
      KEYRING_STORE,
      JSON.stringify({ host, login, secrets }),
    ],
    env: { ...childEnv(home), PATH: `${bin}:/usr/bin:/bin` },
    clearEnv: true,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(output.success, "the fixture ran");
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  const stdin = await Deno.readTextFile(`${bin}/stdin`).catch(() => undefined);
  return { result, commands: stdin === undefined ? undefined : securityCommands(stdin) };
}

const hex = (text: string) =>
  Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("attack: a login with quotes or backslashes breaks out of the macOS security -i command → one command, the exact values", async () => {
  await using config = await tempConfig();
  const secrets = { accessToken: "gho_secret", clientSecret: 'a"b\\c' };
  for (
    const login of [
      'mona" -A -s "x',
      "mona' -A '",
      'mona\\" -A "',
      "mona\\",
      '"',
      "-A",
      "mona lisa\t-A",
      "mona\r-A",
      "møna ✓",
    ]
  ) {
    const host = 'ghe.example.com" -A "';
    const { result, commands } = await storeThroughSecurity(config.home, host, login, secrets);
    assert.deepEqual(result, { ok: true }, JSON.stringify(login));
    assert.deepEqual(commands, [[
      "add-generic-password",
      "-U",
      "-s",
      "loopauth",
      "-a",
      `${login}@${host}`,
      "-l",
      `loopauth: ${login} on ${host}`,
      "-X",
      hex(JSON.stringify(secrets)),
    ]], JSON.stringify(login));
  }
});

Deno.test("attack: a login with a newline, or one so long that security -i cuts the line and runs its rest → refused, nothing sent", async () => {
  await using config = await tempConfig();
  for (const login of ["mona\nadd-generic-password -A", "mona\0", "m".repeat(4000)]) {
    const { result, commands } = await storeThroughSecurity(config.home, "github.com", login, {
      accessToken: "gho_secret",
    });
    assert.equal(result.code, "storage", JSON.stringify(login));
    assert.match(result.message, /^The (macOS Keychain cannot take|secrets are too long for)/);
    assert.equal(commands, undefined, "security was not run");
  }
});

Deno.test('attack: an account named --help makes secret-tool print its help, so store "succeeds" storing nothing → -- ends the options, the token is in the keyring', async () => {
  await using keyring = await startKeyring();
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const options = { configHome: config.home, env: keyring.env };
  const cli = new Cli([
    "login",
    "--issuer",
    op.issuer,
    "--client-id",
    op.publicClient,
    "--no-browser",
    "--web",
    "--storage",
    "keyring",
    "--scopes",
    "openid profile",
  ], options);
  await actAsOidcUser(await cli.waitForLine(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/), {
    login: "--help",
  });
  const login = await cli.output();
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, `Logged in to ${op.issuer} as --help\n`);
  const lookup = async () => {
    const output = await new Deno.Command("secret-tool", {
      args: ["lookup", "--", "service", "loopauth", "host", op.issuer, "account", "--help"],
      // The test's PATH: the secret-tool that --allow-run resolved on it.
      env: { ...keyring.env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      clearEnv: true,
      stdout: "piped",
      stderr: "null",
    }).output();
    return output.success ? JSON.parse(new TextDecoder().decode(output.stdout)) : undefined;
  };
  const item = await lookup();
  assert.ok(item?.accessToken, "the keyring holds the account's item");
  const token = await runCli(["token", "--issuer", op.issuer], options);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${item.accessToken}\n`);
  const logout = await runCli(["logout", "--issuer", op.issuer], options);
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(await lookup(), undefined, "logout removed the item");
});

// The tokens it issues: only RFC 6750 characters are stored, shown or sent.

/**
 * A hostile authorization server: GitHub's token endpoint and an RFC 8414
 * issuer's, both answering `accessToken`.
 */
function hostileTokenServer(accessToken: string) {
  const paths: string[] = [];
  let origin = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    paths.push(url.pathname);
    await request.body?.cancel();
    if (url.pathname === "/.well-known/oauth-authorization-server") {
      return Response.json({
        issuer: origin,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        code_challenge_methods_supported: ["S256"],
        response_types_supported: ["code"],
      });
    }
    if (url.pathname === "/login/oauth/access_token" || url.pathname === "/token") {
      return Response.json({ access_token: accessToken, token_type: "bearer", scope: "" });
    }
    return Response.json({ message: "Not Found" }, { status: 404 });
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  return { origin, paths, [Symbol.asyncDispose]: () => server.shutdown() };
}

/** Runs a login, and plays the browser: the server "approves" and sends the code to the callback. */
async function loginAgainst(configHome: string, args: string[], urlPattern: RegExp) {
  const cli = new Cli([
    ...args,
    "--client-id",
    "x",
    "--no-browser",
    "--web",
  ], {
    configHome,
    env: secretEnv({ clientSecret: "y" }),
  });
  const url = new URL(await cli.waitForLine(urlPattern));
  const callback = new URL(url.searchParams.get("redirect_uri")!);
  callback.searchParams.set("code", "the-code");
  callback.searchParams.set("state", url.searchParams.get("state")!);
  const response = await fetch(callback);
  const page = await response.text();
  return { page, ...(await cli.output()) };
}

Deno.test("attack: a server's token response holds CR/LF or other non-token characters → refused without echoing it, on the terminal and the page; nothing stored", async () => {
  for (const token of HOSTILE_TOKENS) {
    await using server = hostileTokenServer(token);
    await using config = await tempConfig();
    for (
      const [args, pattern] of [
        [
          ["login", "--hostname", server.origin],
          /^http:\/\/127\.0\.0\.1:\d+\/login\/oauth\/authorize\?/,
        ],
        [["login", "--issuer", server.origin], /^http:\/\/127\.0\.0\.1:\d+\/authorize\?/],
      ] as const
    ) {
      const cli = await loginAgainst(config.home, [...args], pattern);
      const what = `${args[1]} ${JSON.stringify(token)}`;
      assert.equal(cli.code, EXIT_CODES.oauth, `${what}: ${cli.stderr}`);
      assert.equal(
        cli.stderr.split("\n").at(-1),
        `Error: The access token from ${server.origin} holds characters a token cannot have (RFC 6750: letters, digits, -._~+/ and a trailing =): nothing was stored`,
        what,
      );
      for (const shown of [cli.stdout, cli.stderr, cli.page]) {
        assert.ok(!shown.includes(token) && !shown.includes("X-Evil"), `${what}: not echoed`);
      }
      assert.match(cli.page, /holds characters a token cannot have/);
      assert.deepEqual(await storedFiles(config.dir), [], `${what}: nothing stored`);
    }
    assert.ok(!server.paths.includes("/api/v3/user"), "the token was not used");
  }
});

// Its metadata and endpoints: https only (http on loopback only), PKCE S256, the right issuer.

Deno.test("attack: an issuer that is plain http, unreachable, without metadata, or whose metadata is malformed, names another issuer, an http endpoint or no PKCE S256 → one clear error each; PKCE S256 is sent even when not advertised", async () => {
  await using config = await tempConfig();
  let metadata: (origin: string) => Response = () => new Response("", { status: 404 });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (): Response => metadata(origin),
  );
  const origin: string = `http://127.0.0.1:${server.addr.port}`;
  const good = (o: string) => ({
    issuer: o,
    authorization_endpoint: `${o}/auth`,
    token_endpoint: `${o}/token`,
    code_challenge_methods_supported: ["S256"],
  });
  const run = (issuer: string, ...extra: string[]) =>
    runCli(["login", "--issuer", issuer, "--client-id", "cli", "--no-browser", ...extra], {
      configHome: config.home,
    });
  try {
    const cases: [string, (o: string) => Response, string[], number, RegExp][] = [
      ["not https", metadata, [], EXIT_CODES.usage, /Refusing http:\/\//],
      [
        "unreachable",
        metadata,
        [],
        EXIT_CODES.network,
        /^Error: Cannot reach http:\/\/127\.0\.0\.1:9/,
      ],
      [
        "no metadata",
        () => new Response("", { status: 404 }),
        [],
        EXIT_CODES.oauth,
        /No OAuth metadata at .* \(HTTP 404\)/,
      ],
      [
        "malformed",
        () => new Response("{not json", { headers: { "content-type": "application/json" } }),
        [],
        EXIT_CODES.oauth,
        /metadata of .* is malformed/,
      ],
      [
        "mismatched",
        (o) => Response.json(good(`${o}/other`)),
        [],
        EXIT_CODES.oauth,
        /names another issuer \(http:\/\/127\.0\.0\.1:\d+\/other\)/,
      ],
      [
        "https endpoints",
        (o) => Response.json({ ...good(o), token_endpoint: "http://example.com/token" }),
        [],
        EXIT_CODES.oauth,
        /invalid token_endpoint \(https:\/\/ needed\)/,
      ],
      [
        "no PKCE",
        (o) => Response.json({ ...good(o), code_challenge_methods_supported: undefined }),
        [],
        EXIT_CODES.oauth,
        /does not advertise PKCE S256 support: if it supports PKCE anyway, pass --allow-no-pkce-metadata/,
      ],
    ];
    for (const [name, answer, , code, pattern] of cases) {
      metadata = answer;
      const issuer = name === "not https"
        ? "http://id.example.com"
        : name === "unreachable"
        ? "http://127.0.0.1:9"
        : origin;
      const out = await run(issuer);
      assert.equal(out.code, code, `${name}: ${out.stderr}`);
      const lines = out.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${name}: one line: ${out.stderr}`);
      assert.match(lines[0], pattern, name);
      assert.match(lines[0], /^Error: /);
    }
    // --allow-no-pkce-metadata: a warning, then the login goes on (PKCE is still sent).
    metadata = (o) => Response.json({ ...good(o), code_challenge_methods_supported: undefined });
    const cli = new Cli(
      [
        "login",
        "--issuer",
        origin,
        "--client-id",
        "cli",
        "--no-browser",
        "--web",
        "--allow-no-pkce-metadata",
        "--timeout",
        "1s",
      ],
      { configHome: config.home },
    );
    const url = new URL(await cli.waitForLine(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/));
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    const out = await cli.output();
    assert.match(
      out.stderr,
      /^Warning: .* does not advertise PKCE S256 support; sending PKCE S256 anyway/m,
    );
    assert.equal(out.code, EXIT_CODES.timeout);
  } finally {
    await server.shutdown();
  }
});

Deno.test("attack: issuer metadata naming a plain-http endpoint beyond loopback → refused before any request is sent, exit 5", async () => {
  await using config = await tempConfig();
  // Where a token sent to http://0.0.0.0:PORT would arrive (Linux delivers it to loopback).
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      const buffer = new Uint8Array(8192);
      const n = await conn.read(buffer).catch(() => null);
      received.push(n ? new TextDecoder().decode(buffer.subarray(0, n)) : "(connected)");
      conn.close();
    }
  })();
  const port = listener.addr.port;
  let bad: Record<string, string> = {};
  // A loopback http issuer whose own endpoints are fine: http is allowed for it.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request): Response => {
      const url = new URL(request.url);
      if (url.pathname === "/.well-known/openid-configuration") {
        return Response.json({
          issuer: origin,
          authorization_endpoint: `${origin}/auth`,
          token_endpoint: `${origin}/token`,
          userinfo_endpoint: `${origin}/userinfo`,
          code_challenge_methods_supported: ["S256"],
          ...bad,
        });
      }
      if (url.pathname === "/auth") {
        const back = new URL(url.searchParams.get("redirect_uri")!);
        back.searchParams.set("code", "code-from-issuer");
        back.searchParams.set("state", url.searchParams.get("state")!);
        return new Response(null, { status: 302, headers: { location: back.href } });
      }
      if (url.pathname === "/token") {
        return Response.json({ access_token: "tok_for_the_user", token_type: "bearer" });
      }
      return new Response("Not found", { status: 404 });
    },
  );
  const origin: string = `http://127.0.0.1:${server.addr.port}`;
  // Deno would let the CLI reach 0.0.0.0 and 10.0.0.1: only loopauth's own rule stands in the way.
  const flags = [
    "--no-prompt",
    ...documentedFlags(config.dir, ["0.0.0.0", "10.0.0.1", "localhost"], {
      source: SOURCE_DIR,
    }),
  ];
  try {
    const cases: [string, string][] = [
      ["userinfo_endpoint", `http://0.0.0.0:${port}/userinfo`],
      ["userinfo_endpoint", `http://localhost:${port}/userinfo`],
      ["userinfo_endpoint", "http://10.0.0.1/userinfo"],
      ["revocation_endpoint", "http://10.0.0.1/revoke"],
      ["device_authorization_endpoint", "http://10.0.0.1/device"],
      ["jwks_uri", `http://0.0.0.0:${port}/jwks`],
      ["token_endpoint", `http://0.0.0.0:${port}/token`],
    ];
    for (const [field, value] of cases) {
      bad = { [field]: value };
      const cli = new Cli(
        ["login", "--issuer", origin, "--client-id", "cli", "--no-browser", "--web"]
          .concat(["--storage", "file", "--timeout", "5s"]),
        { configHome: config.home, flags },
      );
      const url = await cli.waitForLine(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/).catch(() =>
        undefined
      );
      if (url) {
        // Today's code goes on to the browser: play the user, so a leak would show.
        const answer = await fetch(url, { redirect: "manual" });
        await answer.body?.cancel();
        await fetch(answer.headers.get("location")!).then((r) => r.body?.cancel()).catch(() => {});
      }
      const out = await cli.output();
      assert.deepEqual(received, [], `${field} ${value}: nothing reached the listener`);
      assert.equal(out.code, EXIT_CODES.oauth, `${field} ${value}: ${out.stderr}`);
      assert.equal(url, undefined, `${field} ${value}: refused before the browser`);
      assert.match(
        out.stderr,
        new RegExp(
          `^Error: The metadata of ${origin}/ has an invalid ${field} \\(https:// needed\\): check --issuer$`,
        ),
      );
    }
    assert.equal(await exists(`${config.dir}/tokens.json`), false, "nothing stored");
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await server.shutdown();
  }
});

Deno.test("attack: an authorization response with another issuer's iss (mix-up, RFC 9207) → the login ends on a page that says why, nothing stored", async () => {
  // The callback server, told which issuer to expect.
  const server = serveCallback({ state: STATE, issuer: "https://issuer.example" });
  const response = await get(
    `${server.redirectUri}?state=${STATE}&code=1&iss=https://evil.example`,
  );
  // It ends the login, like every other page that does: 200, and the page says why.
  assert.equal(response.status, 200);
  assert.match(await response.text(), /came from the wrong issuer/);
  await assert.rejects(server.result, /wrong issuer/);
  const good = serveCallback({ state: STATE, issuer: "https://issuer.example" });
  const ok = await get(
    `${good.redirectUri}?state=${STATE}&code=1&iss=${encodeURIComponent("https://issuer.example")}`,
  );
  await ok.body?.cancel();
  assert.equal((await good.result).code, "1");
  // The real CLI against a real OpenID Provider, the callback's iss tampered with.
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const cli = new Cli([
    "login",
    "--issuer",
    op.issuer,
    "--no-browser",
    "--web",
    "--storage",
    "file",
    "--scopes",
    "openid offline_access profile email",
    "--client-id",
    op.publicClient,
  ], { configHome: config.home });
  const url = await cli.waitForLine(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
  const agent = await actAsOidcUser(url, {
    tamper: (callback) => callback.searchParams.set("iss", "http://127.0.0.1:1"),
  });
  assert.equal(agent.status, 200, "a page that ends the login answers 200, as the others do");
  const out = await cli.output();
  assert.equal(out.code, EXIT_CODES.oauth, out.stderr);
  assert.match(out.stderr, /^Error: The authorization response came from the wrong issuer/m);
  await assert.rejects(Deno.stat(`${config.home}/loopauth/tokens.json`));
});

/** A minimal issuer whose token endpoint returns a chosen id_token. */
async function fakeIssuer(
  idToken: (
    base: Record<string, unknown>,
    sign: (claims: object, kid?: string) => Promise<string>,
  ) => Promise<string>,
  options: { jwks?: "ok" | "other-key" | "500" } = {},
) {
  const rsaKey = () =>
    crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    ) as Promise<CryptoKeyPair>;
  const keys = await rsaKey();
  const other = await rsaKey();
  const b64 = (data: Uint8Array | string) =>
    btoa(String.fromCharCode(...(typeof data === "string" ? new TextEncoder().encode(data) : data)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const sign = async (claims: object, kid = "k1") => {
    const input = `${b64(JSON.stringify({ alg: "RS256", kid }))}.${b64(JSON.stringify(claims))}`;
    const signature = await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      keys.privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${b64(new Uint8Array(signature))}`;
  };
  const publicJwk = await crypto.subtle.exportKey(
    "jwk",
    options.jwks === "other-key" ? other.publicKey : keys.publicKey,
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request): Promise<Response> => {
      const path = new URL(request.url).pathname;
      if (path === "/.well-known/openid-configuration") {
        return Response.json({
          issuer: origin,
          authorization_endpoint: `${origin}/auth`,
          token_endpoint: `${origin}/token`,
          jwks_uri: `${origin}/jwks`,
          scopes_supported: ["openid"],
          code_challenge_methods_supported: ["S256"],
        });
      }
      if (path === "/jwks") {
        if (options.jwks === "500") return new Response("down", { status: 500 });
        return Response.json({ keys: [{ ...publicJwk, kid: "k1", alg: "RS256", use: "sig" }] });
      }
      await request.body?.cancel();
      const now = Math.floor(Date.now() / 1000);
      const base = {
        iss: origin,
        aud: "cli",
        sub: "bob",
        iat: now,
        exp: now + 300,
        nonce: "good-nonce",
      };
      return Response.json({
        access_token: "at",
        token_type: "Bearer",
        expires_in: 300,
        id_token: await idToken(base, sign),
      });
    },
  );
  const origin: string = `http://127.0.0.1:${server.addr.port}`;
  return { origin, [Symbol.asyncDispose]: () => server.shutdown() };
}

async function exchange(origin: string) {
  const issuer = await discoverIssuer(origin);
  return await exchangeIssuerCode(issuer, {
    clientId: "cli",
    params: new URLSearchParams({ code: "c" }),
    redirectUri: "http://127.0.0.1:1/callback",
    codeVerifier: "v".repeat(43),
    nonce: "good-nonce",
  });
}

Deno.test("attack: an id_token with another nonce, audience or issuer, expired, signed with a key not in the JWKS, or a JWKS that is down → refused in one line; a valid one passes", async (t) => {
  const cases: [
    string,
    Parameters<typeof fakeIssuer>[0],
    Parameters<typeof fakeIssuer>[1],
    RegExp | null,
  ][] = [
    ["valid", (base, sign) => sign(base), {}, null],
    [
      "wrong nonce",
      (base, sign) => sign({ ...base, nonce: "other" }),
      {},
      /id_token of .* failed validation \(unexpected ID Token nonce/,
    ],
    [
      "wrong audience",
      (base, sign) => sign({ ...base, aud: "someone-else" }),
      {},
      /id_token of .* failed validation \(unexpected JWT aud/,
    ],
    [
      "expired",
      (base, sign) => sign({ ...base, exp: Number(base.exp) - 3600, iat: Number(base.iat) - 7200 }),
      {},
      /id_token of .* failed validation .*exp/,
    ],
    [
      "wrong issuer",
      (base, sign) => sign({ ...base, iss: "http://127.0.0.1:1" }),
      {},
      /failed validation \(unexpected JWT iss/,
    ],
    [
      "signed with a key not in the JWKS",
      (base, sign) => sign(base),
      { jwks: "other-key" },
      /could not be checked against its JWKS/,
    ],
    ["unknown kid", (base, sign) => sign(base, "k2"), {}, /could not be checked against its JWKS/],
    [
      "JWKS endpoint down",
      (base, sign) => sign(base),
      { jwks: "500" },
      /could not be checked against its JWKS/,
    ],
  ];
  for (const [name, token, options, expected] of cases) {
    await t.step(name, async () => {
      await using issuer = await fakeIssuer(token, options);
      if (expected === null) {
        const { claims, tokens } = await exchange(issuer.origin);
        assert.equal(claims?.sub, "bob");
        assert.equal(tokens.accessToken, "at");
      } else {
        const error = await exchange(issuer.origin).then(() => undefined, (e) => e);
        assert.ok(error instanceof LoopauthError, String(error));
        assert.equal(error.code, "oauth");
        assert.match(error.message, expected);
        assert.ok(!error.message.includes("\n"));
      }
    });
  }
});

// Its answers: anything that is not a token response is one clear error, in bounded time.

type Fault = (request: Request) => Response | Promise<Response>;

const FAULTS: [string, Fault, RegExp, string][] = [
  [
    "HTTP 502 with HTML",
    () => new Response("<h1>Bad gateway</h1>", { status: 502 }),
    /answered HTTP 502 without JSON/,
    "network",
  ],
  [
    "HTML instead of JSON",
    () => new Response("<!doctype html><p>Sign in</p>"),
    /answered HTTP 200 without JSON/,
    "network",
  ],
  [
    "truncated JSON",
    () => new Response('{"access_token":"gho_x","tok'),
    /answered HTTP 200 without JSON/,
    "network",
  ],
  [
    "a redirect (never followed with the code)",
    () =>
      new Response(null, { status: 302, headers: { Location: "http://127.0.0.1:1/elsewhere" } }),
    /answered HTTP 302 without JSON/,
    "network",
  ],
  [
    "only after 800 ms (past the timeout)",
    () => new Promise((resolve) => setTimeout(() => resolve(new Response("{}")), 800)),
    /No answer from the token endpoint of .* in time/,
    "network",
  ],
  [
    "JSON without a token",
    () => Response.json({ scope: "repo" }),
    /without an access token/,
    "oauth",
  ],
];

for (const [name, fault, message, code] of FAULTS) {
  Deno.test(`attack: the token endpoint answers ${name} → one clear error in bounded time, the code sent once`, async () => {
    const requests: string[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
      requests.push(new URL(request.url).pathname);
      return fault(request);
    });
    try {
      const host = resolveGitHubHost(`http://127.0.0.1:${server.addr.port}`);
      const started = performance.now();
      await assert.rejects(
        () =>
          exchangeCode(host, {
            code: "c",
            redirectUri: "http://127.0.0.1:1/callback",
            codeVerifier: "v".repeat(43),
            clientId: "id",
            timeout: 300,
          }),
        (e) => {
          assert.ok(e instanceof LoopauthError, String(e));
          assert.equal(e.code, code);
          assert.match(e.message, message);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        },
      );
      assert.ok(performance.now() - started < 2000, "bounded time");
      assert.deepEqual(
        requests,
        ["/login/oauth/access_token"],
        "sent once: a code is never replayed",
      );
    } finally {
      await server.shutdown();
    }
  });
}

const jsonish = fc.oneof(
  fc.string(),
  fc.json(),
  fc.record({
    access_token: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    token_type: fc.oneof(fc.string(), fc.constant(undefined)),
    scope: fc.oneof(fc.string(), fc.array(fc.string())),
    expires_in: fc.oneof(fc.integer(), fc.double(), fc.string()),
    refresh_token: fc.oneof(fc.string(), fc.constant(undefined)),
    error: fc.oneof(fc.string(), fc.constant(undefined)),
    error_description: fc.oneof(fc.string(), fc.constant(undefined)),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
);

Deno.test("attack: random token-endpoint answers, any status and body (fast-check) → tokens or one clean error", () => {
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 599 }), jsonish, (status, body) => {
      const result = refusesCleanly(() => parseTokenResponse(status, body, "github.com"));
      if (!(result instanceof LoopauthError)) {
        assert.equal(typeof result.accessToken, "string");
        assert.ok(result.accessToken.length > 0);
        assert.ok(Array.isArray(result.scopes));
        if (result.expiresAt) assert.ok(!Number.isNaN(Date.parse(result.expiresAt)));
      }
    }),
    { numRuns: 2000 },
  );
});

// Paste-back on an issuer that sends iss, and a server that keeps saying slow_down (second review).

Deno.test("attack: a bare code pasted on an issuer that sends iss (RFC 9207) → refused with a hint to paste the whole URL, the wait goes on, the whole URL then logs in", async () => {
  // The callback server: a code alone carries no iss to check, so it cannot end the wait.
  const issuer = "https://issuer.example";
  const server = serveCallback({ state: STATE, issuer, timeout: 30_000 });
  const bare = await server.submit("SplxlOBeZQQYbYS6WxSbIA");
  assert.equal(bare.ended, false);
  assert.equal(
    bare.message,
    `This issuer names itself in the callback (RFC 9207), which a code alone lacks: paste the whole address from the browser's address bar (${server.redirectUri}?…)`,
  );
  assert.equal(await isListening(server.port), true, "still waiting");
  const whole = await server.submit(
    `${server.redirectUri}?code=c1&state=${STATE}&iss=${encodeURIComponent(issuer)}`,
  );
  assert.equal(whole.ended, true, whole.message);
  assert.equal((await server.result).code, "c1");

  // The real CLI on a terminal against a real OpenID Provider, which sends iss.
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  await using tmux = await Tmux.start([
    "login",
    "--issuer",
    op.issuer,
    "--no-browser",
    "--web",
    "--storage",
    "file",
    "--scopes",
    "openid profile",
    "--client-id",
    op.publicClient,
  ], { configHome: config.home });
  const [url] = await tmux.waitFor(/http:\/\/127\.0\.0\.1:\d+\/auth\?\S+/);
  const [prompt] = await tmux.waitFor(/paste the address it ends up at [^\n]* press Enter/);
  assert.doesNotMatch(prompt, /or the code/, "the prompt offers the whole address only");
  // The browser runs on another machine: its callback never reaches this one
  // (here: another path, a 404), so the user copies the address from its bar.
  let callback: URL | undefined;
  await actAsOidcUser(url, {
    tamper: (sent) => {
      callback = new URL(sent);
      sent.pathname = "/on-another-machine";
    },
  });
  assert.ok(callback, "the provider redirected to the callback");
  assert.equal(callback.searchParams.get("iss"), op.issuer);
  const port = Number(callback.port);
  await tmux.typeLine(callback.searchParams.get("code")!);
  await tmux.waitFor(/Not accepted: This issuer names itself in the callback \(RFC 9207\)/);
  const waiting = await tmux.screen();
  assert.doesNotMatch(waiting, /\[exit \d+\]|wrong issuer/, waiting);
  assert.equal(await isListening(port), true, "still waiting");
  await tmux.typeLine(callback.href);
  await tmux.waitFor(/\[exit \d+\]/);
  const done = await tmux.screen();
  assert.match(done, /\[exit 0\]/, done);
  assert.match(done, new RegExp(`Logged in to ${op.issuer} as alice`));
  assert.equal(await isListening(port), false);
  assert.ok((await storedSecrets(config.home, op.issuer, "alice")).accessToken);
});

Deno.test("attack: the server answers slow_down again and again → polls spaced by RFC 8628's rule (5 s more for each, whatever interval it names), a clock-drift hint once, then the login completes", async () => {
  // It names a new interval only 0.5 s longer: the client still adds the RFC's 5 s.
  await withProvider(async (provider, configHome) => {
    provider.forceSlowDown = 3;
    const cli = new Cli(providerLoginArgs(provider, "--device", "--no-browser"), {
      configHome,
      env: secretEnv(provider),
    });
    const line = await cli.waitForLine(/one-time code: [A-Z]{4}-[A-Z]{4}/);
    const userCode = /[A-Z]{4}-[A-Z]{4}/.exec(line)![0];
    const polls = () => tokenRequests(provider, DEVICE_GRANT_TYPE);
    // Three slow_downs take about 0.24 + 7.3 + 14.3 s of waiting (1.2×, then 1.4× the interval).
    await waitUntil(() => polls().length >= 3, { ms: 40_000, what: "three polls" });
    await approveDeviceCode(provider.origin, userCode);
    const out = await cli.output(120_000);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(provider.forceSlowDown, 0, "three polls were told to slow down");
    const sent = polls();
    assert.equal(sent.length, 4, "three slow_downs, then the token");
    const codeRequest = provider.requests.find((r) => r.path === "/login/device/code")!;
    const times = [codeRequest.time, ...sent.map((poll) => poll.time)];
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    // Before poll i the client had been told to slow down i times (at most 3).
    gaps.forEach((gap, i) => {
      const least = 200 + 5_000 * Math.min(i, 3);
      assert.ok(
        gap >= least,
        `gap ${i}: ${Math.round(gap)} ms < ${least} ms (${gaps.map(Math.round)})`,
      );
    });
    const hint =
      "Warning: the server keeps asking to poll more slowly: is this machine's clock running fast? (VMs and WSL often drift)";
    assert.equal(out.stderr.split("\n").filter((l) => l === hint).length, 1, out.stderr);
  }, { autoApprove: false, deviceInterval: 0.2, slowDownIncrement: 0.5 });
});

Deno.test("attack: the server loopauth was installed from changes its code afterwards → the installed command refuses to run it (the lock file of install time), none of it runs", async () => {
  let tampered = false;
  await using server = serveCheckout({
    rewrite: (path, body) =>
      tampered && path === "lib/core/version.ts"
        ? new TextEncoder().encode(
          new TextDecoder().decode(body).replace(/VERSION = "[^"]*"/, 'VERSION = "6.6.6"'),
        )
        : body,
  });
  const home = await tempDir("home");
  const readme = await readmeInstall(server.origin);
  const tools = await toolsDir([...BASE_TOOLS], { deno: Deno.execPath() });
  const env = { HOME: home, PATH: tools, DENO_DIR: Deno.env.get("DENO_DIR") ?? `${home}/.cache` };
  const install = await shell(readme.paste, env);
  assert.equal(install.code, 0, install.stderr);
  // A cleaned Deno cache fetches the modules again (`--version` needs no npm package).
  const run = async () =>
    shell(`${readme.pathLine}\nloopauth --version`, { ...env, DENO_DIR: await tempDir("dd") });
  const before = await run();
  assert.equal(before.stdout, `loopauth ${VERSION}\n`, before.stderr);
  tampered = true;
  const after = await run();
  assert.equal(after.code, 10, after.stderr);
  assert.equal(after.stdout, "", "nothing of the changed code ran");
  assert.match(after.stderr, /Integrity check failed for remote specifier/);
  assert.match(after.stderr, /Specifier: http:\/\/127\.0\.0\.1:\d+\/\w+\/lib\/core\/version\.ts/);
});

Deno.test("attack: an install from plain http beyond loopback (code anyone on the way could change) → refused before anything is fetched or written", async () => {
  const fetched: string[] = [];
  await using server = serveCheckout({ onRequest: (path) => fetched.push(path) });
  const home = await tempDir("home");
  const tools = await toolsDir([...BASE_TOOLS], { deno: Deno.execPath() });
  const env = { HOME: home, PATH: tools, DENO_DIR: Deno.env.get("DENO_DIR") ?? `${home}/.cache` };
  // localhost is a name anything may answer for; only the loopback addresses count.
  for (const from of [`http://localhost:${server.addr.port}`, "http://example.com/loopauth"]) {
    const out = await shell(
      `curl -fsSL ${server.origin}/install.sh | sh -s -- --from ${from}`,
      env,
    );
    assert.equal(out.code, 1, out.stderr);
    assert.equal(
      out.stderr,
      `Error: --from must be an https:// URL (http:// only on 127.0.0.1 or [::1]), not ${from}\n`,
    );
  }
  assert.deepEqual(fetched, ["install.sh", "install.sh"], "only the installer itself was fetched");
  assert.deepEqual([...Deno.readDirSync(home)], []);
});

Deno.test("attack: an install directory whose name carries a newline and a command → refused before anything is written, the command never runs", async () => {
  await using server = serveCheckout();
  const home = await tempDir("home");
  const tools = await toolsDir([...BASE_TOOLS], { deno: Deno.execPath() });
  const marker = `${home}/PWNED`;
  const env = {
    HOME: home,
    PATH: tools,
    DENO_DIR: Deno.env.get("DENO_DIR") ?? `${home}/.cache`,
    LOOPAUTH_INSTALL_DIR: `${home}/b\ntouch ${marker}\n`,
  };
  const out = await shell(
    `curl -fsSL ${server.origin}/install.sh | sh -s -- --from ${server.origin}`,
    env,
  );
  assert.equal(out.code, 1, out.stderr);
  assert.equal(
    out.stderr,
    "Error: Cannot install into a path with a control character (a newline, a tab, …)\n",
  );
  assert.deepEqual([...Deno.readDirSync(home)], [], "nothing written, the command never ran");
});

Deno.test("attack: a comma in TMPDIR or XDG_RUNTIME_DIR (…,/) to widen the installed command's --allow-read/--allow-write → it refuses to run, exit 12, one line", async () => {
  await using server = serveCheckout();
  const home = await tempDir("home");
  const readme = await readmeInstall(server.origin);
  const tools = await toolsDir([...BASE_TOOLS], { deno: Deno.execPath() });
  const env = { HOME: home, PATH: tools, DENO_DIR: Deno.env.get("DENO_DIR") ?? `${home}/.cache` };
  const install = await shell(readme.paste, env);
  assert.equal(install.code, 0, install.stderr);
  for (const [name, value] of [["TMPDIR", "/,unix:"], ["XDG_RUNTIME_DIR", "/run/x,/"]]) {
    const run = await shell(`${readme.pathLine}\nloopauth --version`, { ...env, [name]: value });
    assert.equal(run.code, 12, run.stderr);
    assert.equal(run.stdout, "", "loopauth did not start");
    assert.equal(
      run.stderr,
      "Error: loopauth cannot run with a comma in HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR or TMPDIR\n",
    );
  }
  const plain = await shell(`${readme.pathLine}\nloopauth --version`, env);
  assert.equal(plain.stdout, `loopauth ${VERSION}\n`, plain.stderr);
});
