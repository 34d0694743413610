/**
 * The standing attack suite: each test is one attack on loopauth (from the
 * command line, a hostile server, or the environment), named for it, and
 * asserts what the attacker gets: nothing. Read the test names as the list
 * of what loopauth defends against.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseDuration } from "../lib/core/duration.ts";
import { EXIT_CODES, LoopauthError } from "../lib/core/errors.ts";
import { createOctokit } from "../lib/providers/github_api.ts";
import { saveAccount } from "../lib/store/accounts.ts";
import { fileBackend } from "../lib/store/file.ts";
import {
  childEnv,
  Cli,
  loginOnce,
  MAIN,
  runCli,
  runFlags,
  startKeyring,
  tempConfig,
  withProvider,
} from "./helpers.ts";
import { actAsOidcUser, startOidcProvider } from "./oidc_helpers.ts";

/** A TCP listener on another loopback port that counts the connections it gets. */
function otherPort(): { origin: string; connections: () => number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let count = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      count++;
      conn.close();
    }
  })().catch(() => {});
  return {
    origin: `http://127.0.0.1:${listener.addr.port}`,
    connections: () => count,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
    },
  };
}

/** The files in a config directory (none when it does not exist). */
/** The files of the config directory that hold data (the empty lock file of the login's preflight holds none). */
async function storedFiles(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name)
      .filter((name) => name !== "lock").sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Octokit's request options: a `-f` field of that name must stay a plain parameter. */
const OCTOKIT_OPTIONS = ["baseUrl", "url", "method", "headers", "request", "mediaType"];

Deno.test("attack: api -f baseUrl/url/method/headers/request/mediaType sends the token to another origin → only query data, nothing received", async () => {
  await using other = otherPort();
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome)).code, 0);
    for (const name of OCTOKIT_OPTIONS) {
      const value = `${other.origin}/user`;
      const before = provider.requests.length;
      const cli = await runCli(
        ["api", "/user", "--hostname", provider.origin, "-f", `${name}=${value}`],
        { configHome },
      );
      assert.equal(cli.code, 0, `-f ${name}: ${cli.stderr}`);
      const [sent] = provider.requests.slice(before);
      assert.equal(sent.method, "GET", `-f ${name}`);
      assert.equal(sent.path, `/api/v3/user?${new URLSearchParams({ [name]: value })}`);
    }
  });
  assert.equal(other.connections(), 0, "the other port received nothing");
});

Deno.test("attack: api -X POST -f baseUrl=… sends the token elsewhere → the fields are the JSON body, nothing received", async () => {
  await using other = otherPort();
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome)).code, 0);
    const fields = Object.fromEntries(OCTOKIT_OPTIONS.map((name) => [name, other.origin]));
    const before = provider.requests.length;
    const cli = await runCli(
      [
        "api",
        "-X",
        "POST",
        "/user",
        "--hostname",
        provider.origin,
        ...Object.entries(fields).flatMap(([k, v]) => ["-f", `${k}=${v}`]),
      ],
      { configHome },
    );
    assert.equal(cli.code, EXIT_CODES.api, cli.stderr); // the provider has no POST /user
    const [sent] = provider.requests.slice(before);
    assert.equal(sent.method, "POST");
    assert.equal(sent.path, "/api/v3/user");
    assert.deepEqual(JSON.parse(sent.body), fields);
  });
  assert.equal(other.connections(), 0, "the other port received nothing");
});

Deno.test("attack: api -f baseUrl=… with GH_TOKEN or LOOPAUTH_TOKEN in the environment → the env token goes nowhere else", async () => {
  await using other = otherPort();
  await withProvider(async (provider, configHome) => {
    for (const name of OCTOKIT_OPTIONS) {
      const field = `${name}=${other.origin}`;
      // GH_TOKEN is for github.com (unreachable from the tests: a network or API error).
      const gh = await runCli(["api", "/user", "-f", field], {
        configHome,
        env: { GH_TOKEN: "ghp_attacker_wants_this" },
      });
      assert.notEqual(gh.code, 0);
      assert.ok(!gh.stderr.includes("ghp_attacker_wants_this"));
      const mine = await runCli(["api", "/user", "--hostname", provider.origin, "-f", field], {
        configHome,
        env: { LOOPAUTH_TOKEN: "gho_attacker_wants_this" },
      });
      assert.equal(mine.code, EXIT_CODES.api, mine.stderr); // the provider refuses that token
    }
  });
  assert.equal(other.connections(), 0, "the other port received nothing");
});

Deno.test("attack: an Octokit request of loopauth's own client to another origin → refused before a byte leaves", async () => {
  await using other = otherPort();
  await withProvider(async (provider) => {
    const octokit = await createOctokit(`${provider.origin}/api/v3`, { token: "gho_secret" });
    for (
      const options of [
        { baseUrl: other.origin },
        { url: `${other.origin}/user` },
        { url: "{+target}/user", target: other.origin },
      ] as Record<string, string>[]
    ) {
      const refused = await octokit.request("GET /user", options).catch((e) => e);
      assert.ok(refused instanceof LoopauthError, String(refused));
      assert.equal(refused.code, "usage");
      assert.match(refused.message, /^Refusing to send a request for 127\.0\.0\.1:\d+ to http:/);
    }
    assert.deepEqual(provider.requests, []);
  });
  assert.equal(other.connections(), 0, "the other port received nothing");
});

/** A control character other than the newline that ends a line. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

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

/** `loopauth git-credential get` with git's request on stdin; its exit code and stdout. */
async function gitCredentialGet(configHome: string, request: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...runFlags(`${configHome}/loopauth`), MAIN, "git-credential", "get"],
    env: childEnv(configHome),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(request));
  await writer.close();
  const output = await child.output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}

Deno.test("attack: a stored login or token with a newline (an old or tampered store) → the git helper prints nothing for that host", async () => {
  await using config = await tempConfig();
  const host = "http://127.0.0.1:9";
  const request = "protocol=http\nhost=127.0.0.1:9\n\n";
  const save = (login: string, accessToken: string) =>
    saveAccount(
      {
        host,
        login,
        clientId: "loopauth-dev",
        token: { accessToken, tokenType: "bearer", scopes: [] },
        createdAt: new Date().toISOString(),
        storage: "file",
      },
      fileBackend({ dir: config.dir }),
      { dir: config.dir },
    );

  await save("octocat", "gho_fine");
  const fine = await gitCredentialGet(config.home, request);
  assert.equal(fine.code, 0);
  assert.equal(fine.stdout, "username=octocat\npassword=gho_fine\n");

  for (
    const [login, token] of [
      ["attacker\nurl=https://github.com/\nusername=attacker", "gho_fine"],
      ["attacker\r\nurl=https://github.com/", "gho_fine"],
      ["attacker\0", "gho_fine"],
      ["octocat", "gho_x\nurl=https://github.com/"],
      ["octocat", "gho_x\0"],
    ]
  ) {
    await save(login, token);
    const cli = await gitCredentialGet(config.home, request);
    assert.equal(cli.code, 0);
    assert.equal(cli.stdout, "", `${JSON.stringify([login, token])}: nothing printed`);
  }
});

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

const KEYRING_STORE = fileURLToPath(new URL("./fixtures/keyring_store_darwin.ts", import.meta.url));

/** Stores an account through the macOS backend, with a stand-in `security` that records its input. */
async function storeThroughSecurity(home: string, host: string, login: string, secrets: object) {
  const bin = `${home}/bin`;
  await Deno.mkdir(bin, { recursive: true });
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
      env: { ...keyring.env, PATH: "/usr/bin:/bin" },
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

/** Tokens that are no RFC 6750 bearer token. */
const HOSTILE_TOKENS = [
  "gho_x\r\nX-Evil: 1",
  "gho_x\nX-Evil: 1",
  "gho x",
  'gho"x',
  "gho_é",
  "gho=x",
];

Deno.test("attack: LOOPAUTH_TOKEN, GH_TOKEN or GITHUB_TOKEN with CR/LF or other non-token characters → refused without echoing it", async () => {
  await using config = await tempConfig();
  for (const variable of ["LOOPAUTH_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"]) {
    for (const token of HOSTILE_TOKENS) {
      for (const args of [["token"], ["api", "/user"], ["status"]]) {
        const cli = await runCli(args, { configHome: config.home, env: { [variable]: token } });
        const what = `${variable}=${JSON.stringify(token)} ${args[0]}`;
        assert.equal(cli.code, EXIT_CODES.usage, `${what}: ${cli.stderr}`);
        assert.equal(cli.stdout, "", what);
        assert.equal(
          cli.stderr,
          `Error: ${variable} holds characters a token cannot have (RFC 6750: letters, digits, -._~+/ and a trailing =): set it to the token alone, or unset it`,
          what,
        );
      }
    }
  }
  // Surrounding whitespace (a trailing newline from a file) is no attack: it is trimmed.
  const fine = await runCli(["token"], {
    configHome: config.home,
    env: { GH_TOKEN: " ghp_abc-._~+/== \n" },
  });
  assert.equal(fine.code, 0, fine.stderr);
  assert.equal(fine.stdout, "ghp_abc-._~+/==\n");
});

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
    "--client-secret",
    "y",
    "--no-browser",
    "--web",
  ], {
    configHome,
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

Deno.test("attack: --timeout 597h or more overflows the timer (a login that times out at once) → usage error naming the maximum", async () => {
  await using config = await tempConfig();
  const login = ["login", "--hostname", "http://127.0.0.1:9", "--client-id", "x", "--no-browser"];
  for (const timeout of ["597h", "2147483648ms", "99999999999999999999h", "9".repeat(400)]) {
    for (
      const [args, env] of [
        [[...login, "--web", "--timeout", timeout], {}],
        [["demo", "--timeout", timeout], {}],
        [[...login, "--storage", "keyring"], { LOOPAUTH_KEYRING_TIMEOUT: timeout }],
      ] as const
    ) {
      const cli = await runCli([...args], { configHome: config.home, env });
      assert.equal(cli.code, EXIT_CODES.usage, `${args[0]} ${timeout}: ${cli.stderr}`);
      assert.equal(
        cli.stderr,
        `Error: Invalid duration "${timeout}": the longest is 2147483647ms (about 596h)`,
      );
    }
  }
  assert.equal(parseDuration("596h"), 596 * 3_600_000);
  assert.equal(parseDuration("2147483647ms"), 2 ** 31 - 1);
});

Deno.test("attack: api with a malformed --issuer, --base or PATH (an unexpected failure, exit 1) → usage error, one line", async () => {
  await using config = await tempConfig();
  const issuer = ["--issuer", "https://id.example.com"];
  const cases: [string[], RegExp][] = [
    [
      ["api", "/me", ...issuer, "--base", "::bad"],
      /^Error: Invalid --base "::bad": it is not a valid URL$/,
    ],
    [
      ["api", "/me", ...issuer, "--base", "https://"],
      /^Error: Invalid --base "https:\/\/": it is not a valid URL$/,
    ],
    [
      ["api", "/me", ...issuer, "--base", "https://me:pw@api.example.com"],
      /^Error: Give the API base without credentials, query or fragment$/,
    ],
    [
      ["api", "http://[::1", ...issuer],
      /^Error: Invalid PATH "http:\/\/\[::1": it is not a valid URL$/,
    ],
    [
      ["api", "/me", "--issuer", "::bad"],
      /^Error: Invalid issuer "::bad": give a URL such as https:\/\/id\.example\.com$/,
    ],
    [
      ["api", "/me", "--issuer", "https://:pw@id.example.com"],
      /^Error: Invalid issuer: give the issuer URL without a user name or password$/,
    ],
  ];
  for (const [args, message] of cases) {
    for (const env of [{}, { LOOPAUTH_TOKEN: "gho_env" }] as Record<string, string>[]) {
      const cli = await runCli(args, { configHome: config.home, env });
      assert.equal(cli.code, EXIT_CODES.usage, `${args.join(" ")}: ${cli.stderr}`);
      assert.match(cli.stderr, message);
    }
  }
});

Deno.test("attack: a corrupt tokens.json makes status report success (exit 0) → exit 8 naming the file", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    for (const garbage of ["{garbage", '{"hosts": 5}', "[]", ""]) {
      await Deno.writeTextFile(`${configDir}/tokens.json`, garbage);
      for (const args of [["status"], ["status", "--offline", "--json"], ["token"]]) {
        const cli = await runCli([...args, "--hostname", provider.origin], { configHome });
        assert.equal(cli.code, EXIT_CODES.storage, `${args} ${JSON.stringify(garbage)}`);
        assert.equal(cli.stdout, "");
        assert.equal(
          cli.stderr,
          `Error: Cannot read ${configDir}/tokens.json: it is not a valid loopauth tokens file (fix or delete it)`,
        );
      }
    }
  });
});

Deno.test("attack: --hostname or --issuer with a user name or password (https://:pass@host) → usage error that does not echo the password", async () => {
  await using config = await tempConfig();
  const hosts = [
    "https://:hunter2@ghe.example.com",
    "https://me:hunter2@ghe.example.com",
    "me:hunter2@ghe.example.com",
    "https://hunter2@ghe.example.com",
    "ftp://me:hunter2@ghe.example.com",
    "http://me:hunter2@127.0.0.1:9",
  ];
  const runs = hosts.flatMap((host) => [
    ["login", "--hostname", host, "--client-id", "x", "--no-browser"],
    ["token", "--hostname", host],
    ["api", "/user", "--hostname", host],
    ["status", "--hostname", host],
    ["logout", "--hostname", host],
    ["setup-git", "--hostname", host],
    ["login", "--issuer", host, "--client-id", "x", "--no-browser"],
    ["token", "--issuer", host],
  ]);
  for (const args of runs) {
    const cli = await runCli(args, { configHome: config.home });
    const flag = args.includes("--issuer") ? "issuer" : "host";
    assert.equal(cli.code, EXIT_CODES.usage, `${args.join(" ")}: ${cli.stderr}`);
    assert.ok(!cli.stderr.includes("hunter2"), `${args.join(" ")}: password not echoed`);
    const host = args[args.indexOf(`--${flag === "host" ? "hostname" : "issuer"}`) + 1];
    assert.equal(
      cli.stderr,
      flag === "host"
        ? "Error: Invalid host: give the host name without a user name or password"
        : host.includes("://")
        ? "Error: Invalid issuer: give the issuer URL without a user name or password"
        : 'Error: Invalid issuer "…@ghe.example.com": use https://', // a URL of scheme "me:"
      args.join(" "),
    );
  }
  assert.deepEqual(await storedFiles(config.dir), []);
});
