/**
 * The client secret off the command line: from a 0600 file
 * (`--client-secret-file`), from stdin (`--client-secret -`) or from
 * `LOOPAUTH_CLIENT_SECRET`; each reaches the token endpoint and never the
 * output. `--client-secret SECRET` still works, with one warning line.
 * `refresh` and `logout` read it the same way. (A file others can read is
 * refused: the attack suite, tests/security/command_line_test.ts.)
 */
import assert from "node:assert/strict";
import { actAsUser, approveDeviceCode, type DevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { ARGV_SECRET_WARNING } from "../../lib/cli/client_secret.ts";
import {
  childEnv,
  Cli,
  grantType,
  MAIN,
  runCli,
  runFlags,
  runWithInput,
  saveFileAccount,
  tokenRequests,
  withProvider,
} from "../helpers.ts";

/** How many times a run printed the warning about a secret in its arguments. */
function argvWarnings(stderr: string): number {
  return stderr.split("\n").filter((line) => line === ARGV_SECRET_WARNING).length;
}

/** The secret the last code exchange sent. */
function sentSecret(provider: DevProvider): string | null {
  const exchange = tokenRequests(provider, "authorization_code").at(-1)!;
  return new URLSearchParams(exchange.body).get("client_secret");
}

const webLogin = (provider: DevProvider) => [
  "login",
  "--hostname",
  provider.origin,
  "--client-id",
  provider.clientId,
  "--no-browser",
  "--web",
  "--storage",
  "file",
];

Deno.test("client secret: --client-secret-file PATH (mode 0600) is used; LOOPAUTH_CLIENT_SECRET too", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    await Deno.mkdir(configDir, { mode: 0o700 });
    await Deno.chmod(configDir, 0o700);
    const file = `${configDir}/app-secret`;
    await Deno.writeTextFile(file, `${provider.clientSecret}\r\n`, { mode: 0o600 });
    await Deno.chmod(file, 0o600);
    const cli = new Cli([...webLogin(provider), "--client-secret-file", file], { configHome });
    await actAsUser(await cli.authorizationUrl());
    const fromFile = await cli.output();
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(sentSecret(provider), provider.clientSecret);
    assert.ok(!`${fromFile.stdout}${fromFile.stderr}`.includes(provider.clientSecret));
    assert.equal(argvWarnings(fromFile.stderr), 0);

    const env = new Cli(webLogin(provider), {
      configHome,
      env: { LOOPAUTH_CLIENT_SECRET: provider.clientSecret },
    });
    await actAsUser(await env.authorizationUrl());
    const fromEnv = await env.output();
    assert.equal(fromEnv.code, 0);
    assert.equal(argvWarnings(fromEnv.stderr), 0);
    assert.equal(tokenRequests(provider, "authorization_code").length, 2);
    assert.equal(sentSecret(provider), provider.clientSecret);

    const both = await runCli(
      [...webLogin(provider), "--client-secret-file", file, "--client-secret", "-"],
      { configHome },
    );
    assert.equal(both.code, EXIT_CODES.usage);
    assert.equal(both.stderr, "Error: Give --client-secret or --client-secret-file, not both");
    const empty = `${configDir}/empty-secret`;
    await Deno.writeTextFile(empty, "\n", { mode: 0o600 });
    await Deno.chmod(empty, 0o600);
    const none = await runCli([...webLogin(provider), "--client-secret-file", empty], {
      configHome,
    });
    assert.equal(none.code, EXIT_CODES.usage);
    assert.equal(none.stderr, `Error: No client secret in ${empty}: its first line is the secret`);
  });
});

Deno.test("client secret: --client-secret - reads the first line of stdin", async () => {
  await withProvider(async (provider, configHome) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...runFlags(`${configHome}/loopauth`),
        MAIN,
        ...webLogin(provider),
        "--client-secret",
        "-",
      ],
      env: childEnv(configHome),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(`${provider.clientSecret}\n`));
    await writer.close();
    // The URL line on stderr, then the user approves.
    let stderr = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let url: string | undefined;
    while (url === undefined) {
      const { value, done } = await reader.read();
      assert.ok(!done, `no URL printed: ${stderr}`);
      stderr += value;
      url = /^https?:\/\/\S+\/login\/oauth\/authorize\?\S+$/m.exec(stderr)?.[0];
    }
    await actAsUser(url);
    const rest = (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        stderr += value;
      }
    })();
    const [status, stdout] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      rest,
    ]);
    assert.equal(status.code, 0, stderr);
    assert.equal(stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.equal(sentSecret(provider), provider.clientSecret);
    assert.ok(!stderr.includes(provider.clientSecret));
    assert.equal(argvWarnings(stderr), 0);
  });
});

Deno.test("client secret: --client-secret SECRET still logs in, with one warning line naming the safer ways", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli([...webLogin(provider), "--client-secret", provider.clientSecret], {
      configHome,
    });
    await actAsUser(await cli.authorizationUrl());
    const out = await cli.output();
    assert.equal(out.code, 0, out.stderr);
    assert.equal(sentSecret(provider), provider.clientSecret);
    assert.equal(argvWarnings(out.stderr), 1, out.stderr);
    assert.equal(
      ARGV_SECRET_WARNING,
      "Warning: --client-secret SECRET shows the secret to other local users and stays in shell history: use LOOPAUTH_CLIENT_SECRET, --client-secret-file PATH or --client-secret -",
    );
    // The warning itself never quotes the secret.
    assert.ok(!`${out.stdout}${out.stderr}`.includes(provider.clientSecret));
  });
});

Deno.test("client secret: refresh and logout read it as login does (a file, stdin, the variable; the argument warns once)", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    await Deno.mkdir(configDir, { mode: 0o700 });
    await Deno.chmod(configDir, 0o700);
    const file = `${configDir}/app-secret`;
    await Deno.writeTextFile(file, `${provider.clientSecret}\n`, { mode: 0o600 });
    await Deno.chmod(file, 0o600);
    const host = ["--hostname", provider.origin];
    // Accounts whose login stored no secret (a device login needs none).
    for (const login of ["hubot", "octocat"]) { // octocat (the browser's user) last: the active one
      await saveFileAccount(configDir, {
        host: provider.origin,
        login,
        accessToken: `gho_${login}`,
      });
    }
    // refresh --client-secret-file: the browser flow's code exchange sends the file's secret.
    const refresh = new Cli([
      "refresh",
      ...host,
      "--web",
      "--no-browser",
      "--client-secret-file",
      file,
    ], {
      configHome,
    });
    await actAsUser(await refresh.authorizationUrl());
    const refreshed = await refresh.output();
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.equal(sentSecret(provider), provider.clientSecret);
    assert.equal(argvWarnings(refreshed.stderr), 0);

    // logout --client-secret - (stdin): GitHub's revocation is authenticated with it.
    const revocations = () =>
      provider.requests.filter((r) =>
        r.method === "DELETE" && r.path === `/api/v3/applications/${provider.clientId}/token`
      );
    const before = revocations().length;
    const logout = await runWithInput(
      Deno.execPath(),
      [
        "run",
        ...runFlags(configDir),
        MAIN,
        "logout",
        ...host,
        "--user",
        "hubot",
        "--client-secret",
        "-",
      ],
      `${provider.clientSecret}\n`,
      { env: childEnv(configHome) },
    );
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(argvWarnings(logout.stderr), 0);
    const [revoked] = revocations().slice(before);
    assert.equal(
      revoked?.headers.authorization,
      `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
    );

    // logout --client-secret SECRET: works, with the one warning line.
    const argv = await runCli(["logout", ...host, "--client-secret", provider.clientSecret], {
      configHome,
    });
    assert.equal(argv.code, 0, argv.stderr);
    assert.equal(argvWarnings(argv.stderr), 1, argv.stderr);
    assert.ok(!`${argv.stdout}${argv.stderr}`.includes(provider.clientSecret));
  });
});

Deno.test("client secret: missing for --web on a GitHub host → one line before any request or port; the device flow is told", async () => {
  await withProvider(async (provider, configHome) => {
    const args = [
      "login",
      "--hostname",
      provider.origin,
      "--client-id",
      provider.clientId,
      "--web",
    ];
    const out = await runCli(args, { configHome });
    assert.equal(out.code, EXIT_CODES.usage, out.stderr);
    assert.equal(
      out.stderr,
      `Error: The browser flow on ${provider.origin} needs the app's client secret: give it with LOOPAUTH_CLIENT_SECRET, --client-secret-file PATH or --client-secret -, or log in with --device, which needs none`,
    );
    assert.equal(provider.requests.length, 0, "nothing was asked of the host");
  });
});

Deno.test("client secret: missing in a default login → the browser route is left out, the device route goes on and logs in", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(
      ["login", "--hostname", provider.origin, "--client-id", provider.clientId],
      {
        configHome,
      },
    );
    await cli.waitForLine(
      /^Logging in with the device flow: the browser flow needs the app's client secret \(LOOPAUTH_CLIENT_SECRET, --client-secret-file PATH or --client-secret -\)$/,
    );
    const line = await cli.waitForLine(/one-time code: /);
    const code = /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(line)![1];
    await approveDeviceCode(provider.origin, code);
    const out = await cli.output();
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.ok(!out.stderr.includes("/login/oauth/authorize"), "no browser URL was printed");
    assert.equal(
      provider.requests.filter((r) => r.path === "/login/oauth/access_token").every((r) =>
        grantType(r) === "urn:ietf:params:oauth:grant-type:device_code"
      ),
      true,
    );
  }, { autoApprove: false, deviceInterval: 0.2 });
});
