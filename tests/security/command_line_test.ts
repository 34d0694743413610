/**
 * The attack suite, threat 5 of 9: hostile input on the command line, in
 * the environment and on git's stdin (a script that passes on what it was
 * given, a poisoned GH_TOKEN, a host name with a password in it, garbage
 * where git's request should be, a `--param` or `--redirect-uri` that would
 * undo a defence of the login, a library app name that is a path). Each is refused with one line, or given
 * nothing, and no token goes anywhere it was not meant for. See
 * tests/security_test.ts.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { parseDuration } from "../../lib/core/duration.ts";
import { EXIT_CODES, LoopauthError } from "../../lib/core/errors.ts";
import { resolveGitHubHost } from "../../lib/providers/github_host.ts";
import { createOctokit } from "../../lib/providers/github_api.ts";
import { compileFlags } from "../../scripts/permissions.ts";
import { login } from "../../lib/ops/login.ts";
import {
  isListening,
  loginArgs,
  loginOnce,
  runCli,
  saveFileAccount,
  secretEnv,
  tempConfig,
  withProvider,
} from "../helpers.ts";
import {
  gitCredentialGet,
  HOSTILE_TOKENS,
  otherPort,
  refusesCleanly,
  storedFiles,
} from "../security_helpers.ts";

// Where a token may go: api -f fields are data, and only the API base gets a token.

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

// The environment: a token variable holds a token and nothing else.

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

// Host names, issuers and durations: refused with one line (exit 2), never half-used.

Deno.test("attack: --param state=… (or code_challenge*, redirect_uri, resource, client_id, response_type, response_mode, scope, nonce, in any case) replaces a defence of the login → refused (usage, exit 2, one line) before the provider hears anything; the library refuses too", async () => {
  const owned = [
    "state",
    "State",
    "code_challenge",
    "code_challenge_method",
    "code_challenge_x",
    "redirect_uri",
    "resource",
    "client_id",
    "response_type",
    "response_mode",
    "scope",
    "nonce",
  ];
  await withProvider(async (provider, configHome, configDir) => {
    for (const name of owned) {
      const cli = await runCli(
        loginArgs(provider, "--param", "audience=api", "--param", `${name}=attacker-chosen`),
        { configHome, env: secretEnv(provider) },
      );
      assert.equal(cli.code, EXIT_CODES.usage, `${name}: ${cli.stderr}`);
      assert.match(cli.stderr, /^Error: Refused --param \S+: loopauth sets \S+ itself: [^\n]+$/);
      assert.doesNotMatch(cli.stderr, /attacker-chosen/);
    }
    assert.equal(provider.requests.length, 0, "the provider heard nothing");
    assert.deepEqual(await storedFiles(configDir), []);
    for (const name of owned) {
      await assert.rejects(
        login({
          hostname: provider.origin,
          clientId: provider.clientId,
          params: { [name]: "attacker-chosen" },
          store: false,
          openBrowser: false,
        }),
        (e) => e instanceof LoopauthError && e.code === "usage",
        name,
      );
    }
    assert.equal(provider.requests.length, 0, "the provider heard nothing from the library");
  });
});

Deno.test("attack: --redirect-uri to another host, 0.0.0.0 or https (the code would leave the machine, or listen on every interface) → refused (usage, exit 2, one line), no port opened, nothing sent", async () => {
  await withProvider(async (provider, configHome) => {
    for (
      const uri of [
        "http://example.com:8123/cb",
        "http://0.0.0.0:8123/cb",
        "http://192.168.1.10:8123/cb",
        "http://localhost.evil.example:8123/cb",
        "https://127.0.0.1:8123/cb",
      ]
    ) {
      const cli = await runCli(loginArgs(provider, "--redirect-uri", uri), {
        configHome,
        env: secretEnv(provider),
      });
      assert.equal(cli.code, EXIT_CODES.usage, `${uri}: ${cli.stderr}`);
      assert.match(cli.stderr, /^Error: Invalid --redirect-uri "[^"\n]+": [^\n]+$/);
      assert.equal(await isListening(8123), false);
    }
    assert.equal(provider.requests.length, 0, "the provider heard nothing");
    // The same from the library.
    await assert.rejects(
      login({
        hostname: provider.origin,
        clientId: provider.clientId,
        redirectUri: "http://0.0.0.0:8123/cb",
        store: false,
        openBrowser: false,
      }),
      (e) => e instanceof LoopauthError && e.code === "usage",
    );
    assert.equal(provider.requests.length, 0, "the provider heard nothing from the library");
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

Deno.test("attack: --hostname with plain http beyond loopback (a name, localhost, 10.0.0.1), another scheme, a path, credentials or a space → refused (usage); http on 127.0.0.1 and [::1] is accepted", () => {
  const local = resolveGitHubHost("http://127.0.0.1:8080");
  assert.equal(local.key, "http://127.0.0.1:8080");
  assert.equal(local.apiUrl, "http://127.0.0.1:8080/api/v3");
  assert.equal(resolveGitHubHost("http://[::1]:9000").origin, "http://[::1]:9000");
  for (
    const bad of [
      "http://ghe.example.com",
      "http://localhost:8080",
      "http://10.0.0.1",
      "ftp://x.org",
    ]
  ) {
    assert.throws(
      () => resolveGitHubHost(bad),
      (e) => e instanceof LoopauthError && e.code === "usage",
      bad,
    );
  }
  for (
    const bad of ["https://ghe.example.com/path", "https://u:p@ghe.example.com", "exa mple.com"]
  ) {
    assert.throws(
      () => resolveGitHubHost(bad),
      (e) => e instanceof LoopauthError && e.code === "usage",
      bad,
    );
  }
});

Deno.test("attack: random strings, URLs and domains as --hostname or a duration (fast-check) → accepted (https, or http on loopback) or refused cleanly", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.domain()), (input) => {
      const host = refusesCleanly(() => resolveGitHubHost(input));
      if (!(host instanceof LoopauthError)) {
        assert.ok(
          host.origin.startsWith("https://") || /^http:\/\/(127\.|\[::1\])/.test(host.origin),
        );
      }
      refusesCleanly(() => parseDuration(input));
    }),
    { numRuns: 2000 },
  );
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

// git's stdin: whatever arrives there, the helper gives a credential only for a host logged in to.

Deno.test("attack: garbage on git-credential get's stdin (binary, NUL, no host, other protocols, userinfo, paths, look-alike hosts, a 1 MiB line) → nothing printed, exit 0; git's real requests still get their credential", async () => {
  await using config = await tempConfig();
  const save = (host: string, login: string, accessToken: string) =>
    saveFileAccount(config.dir, { host, login, accessToken });
  await save("http://127.0.0.1:9", "octocat", "gho_local");
  await save("ghe.example.com", "mona", "gho_ghes");

  for (
    const [request, answer] of [
      ["protocol=http\nhost=127.0.0.1:9\n\n", "username=octocat\npassword=gho_local\n"],
      ["protocol=http\r\nhost=127.0.0.1:9\r\n\r\n", "username=octocat\npassword=gho_local\n"],
      ["protocol=https\nhost=ghe.example.com\n\n", "username=mona\npassword=gho_ghes\n"],
    ]
  ) {
    const cli = await gitCredentialGet(config.home, request);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout, answer, JSON.stringify(request));
  }

  // Bytes from a fixed-seed generator: the same garbage on every run.
  let seed = 0x2545f491;
  const binary = Uint8Array.from({ length: 64 * 1024 }, () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed & 0xff;
  });
  const garbage: (string | Uint8Array)[] = [
    "",
    binary,
    "\0\0\0\n\n",
    "host=127.0.0.1:9\n\n", // no protocol
    "protocol=http\n\n", // no host
    "protocol=https\nhost=127.0.0.1:9\n\n", // the loopback account is http://
    "protocol=http\nhost=ghe.example.com\n\n", // plain http to a remote host
    "protocol=ftp\nhost=127.0.0.1:9\n\n",
    "protocol=http\nhost=me:pw@127.0.0.1:9\n\n",
    "protocol=https\nhost=ghe.example.com/evil\n\n",
    "protocol=https\nhost=ghe.example.com.evil.example\n\n",
    "protocol=https\nhost=evil.example#ghe.example.com\n\n",
    "protocol=https\nhost=evil.example/@ghe.example.com\n\n",
    "protocol=https\nhost=ghe.example.com\0evil\n\n",
    "protocol=https\n\nhost=ghe.example.com\n\n", // the host after the blank line that ends it
    "protocol=https\nhost\n=ghe.example.com\nhost=\n\n",
    `protocol=https\nhost=${"a".repeat(1 << 20)}\n\n`,
  ];
  for (const request of garbage) {
    const cli = await gitCredentialGet(config.home, request);
    const what = typeof request === "string" ? JSON.stringify(request.slice(0, 80)) : "binary";
    assert.equal(cli.code, 0, `${what}: ${cli.stderr}`);
    assert.equal(cli.stdout, "", `${what}: nothing printed`);
    assert.equal(cli.stderr, "", `${what}: nothing on stderr`);
  }
  assert.deepEqual(await storedFiles(config.dir), ["config.json", "tokens.json"], "nothing added");
});

// The compiled binary reaches any host (scripts/permissions.ts compileFlags), but not this machine
// under a wildcard name: on Linux a connection to 0.0.0.0:PORT reaches whatever listens on
// 127.0.0.1:PORT, which a host check for loopback literals does not see.

Deno.test("attack: a compiled binary sent to 0.0.0.0:PORT (this machine's services under a name that is no loopback address) with a token → exit 12, no connection", async () => {
  await using other = otherPort();
  await using config = await tempConfig();
  const host = `0.0.0.0:${new URL(other.origin).port}`;
  const run = (flags: string[]) =>
    runCli(["api", "--hostname", host, "/user"], {
      configHome: config.home,
      env: { LOOPAUTH_TOKEN: `gho_${"z".repeat(36)}` },
      flags: ["--no-prompt", ...flags],
    });
  const refused = await run(compileFlags());
  assert.equal(refused.code, EXIT_CODES.permission, refused.stderr);
  assert.equal(refused.stderr.split("\n").length, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`^Error: .*net access to "${host}"`));
  assert.equal(other.connections(), 0, "nothing reached the listener on 127.0.0.1");
  if (Deno.build.os === "linux") {
    // Without --deny-net the same request would reach it: the test can fail.
    const open = await run(compileFlags().filter((flag) => !flag.startsWith("--deny-net")));
    assert.notEqual(open.code, 0);
    assert.ok(other.connections() > 0, "0.0.0.0 reaches 127.0.0.1 on Linux");
  }
});

Deno.test("attack: --client-secret-file that other users can read or change → refused with the chmod that fixes it, before any request", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    await Deno.mkdir(configDir, { mode: 0o700 });
    await Deno.chmod(configDir, 0o700);
    const file = `${configDir}/app-secret`;
    await Deno.writeTextFile(file, `${provider.clientSecret}\n`, { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602]) {
      await Deno.chmod(file, mode);
      const args = [
        "login",
        "--hostname",
        provider.origin,
        "--client-id",
        provider.clientId,
        "--client-secret-file",
        file,
        "--no-browser",
        "--web",
      ];
      const refused = await runCli(args, { configHome });
      assert.equal(refused.code, EXIT_CODES.usage, refused.stderr);
      const can = mode & 0o044 ? "read" : "change";
      assert.equal(
        refused.stderr,
        `Error: Refusing to use --client-secret-file ${file}: other users can ${can} it (mode 0${
          mode.toString(8)
        }): run chmod 600 ${file}`,
      );
      assert.ok(!refused.stderr.includes(provider.clientSecret));
    }
    assert.equal(provider.requests.length, 0, "nothing was sent");
  });
});

Deno.test("attack: an app name that is a path or a keyring attribute (../.., loopauth/x, a space, a newline) → usage error before any request or file", async () => {
  await withProvider(async (provider, configHome) => {
    for (const app of ["../..", "loopauth/../x", "a b", "x\nservice", "", "LOOPAUTH", "-x"]) {
      const before = provider.requests.length;
      const refused = await login({
        app,
        hostname: provider.origin,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        configDir: `${configHome}/app`,
        storage: "file",
        flow: "web",
        openBrowser: false,
      }).catch((e) => e);
      assert.ok(refused instanceof LoopauthError, JSON.stringify(app));
      assert.equal(EXIT_CODES[refused.code], EXIT_CODES.usage);
      assert.doesNotMatch(refused.message, /\n/);
      assert.equal(provider.requests.length, before, "no request");
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(configHome)), [], "nothing written");
  });
});
