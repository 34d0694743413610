/**
 * `deno run <URL>` and `deno install -g <URL>`: the checkout is served over
 * HTTP on 127.0.0.1 and run from an empty directory with no deno.json (so no
 * import map), with the documented flags and --no-prompt.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { actAsUser, startDevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { VERSION } from "../../lib/core/version.ts";
import { runFlags, TEST_BIN } from "../../scripts/permissions.ts";
import {
  Cli,
  emptyDir,
  loginWith,
  providerLoginArgs,
  ROOT,
  runCli,
  secretEnv,
  serveCheckout,
  tempConfig,
} from "../helpers.ts";

Deno.test("deno run from a URL: --help and a full login, with the documented flags", async () => {
  await using server = serveCheckout();
  await using cwd = await emptyDir();
  await using home = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  try {
    const command: [string, ...string[]] = [
      Deno.execPath(),
      "run",
      "--no-prompt",
      `--allow-import=127.0.0.1:${server.addr.port}`,
      ...runFlags(home.dir),
      `${server.origin}/main.ts`,
    ];
    const options = { configHome: home.home, command, cwd: cwd.path };
    const help = await runCli(["--help"], options);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^loopauth ${VERSION.replaceAll(".", "\\.")}: `));

    const login = await loginWith(provider, options);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, `Logged in to ${provider.origin} as octocat\n`);
    const api = await runCli(["api", "/user", "--hostname", provider.origin], options);
    assert.equal(api.code, 0, api.stderr);
    assert.equal(JSON.parse(api.stdout).login, "octocat");
  } finally {
    await provider.close();
  }
});

Deno.test("deno run from a URL: a two-step login's waiter runs from the same URL", async () => {
  await using server = serveCheckout();
  await using cwd = await emptyDir();
  await using home = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  try {
    const command: [string, ...string[]] = [
      Deno.execPath(),
      "run",
      "--no-prompt",
      `--allow-import=127.0.0.1:${server.addr.port}`,
      ...runFlags(home.dir),
      `${server.origin}/main.ts`,
    ];
    const options = { configHome: home.home, command, cwd: cwd.path, env: secretEnv(provider) };
    const start = await runCli(
      providerLoginArgs(provider, "--no-wait", "--json", "--no-browser", "--web"),
      options,
    );
    assert.equal(start.code, 0, start.stderr);
    const { id, url } = JSON.parse(start.stdout);
    const resume = new Cli(["login", "--resume", id], options);
    assert.equal((await actAsUser(url)).status, 200);
    const out = await resume.output();
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged in to ${provider.origin} as octocat\n`);
  } finally {
    await provider.close();
  }
});

Deno.test("deno install -g from a URL gives a working loopauth command", async () => {
  await using server = serveCheckout();
  await using cwd = await emptyDir();
  await using home = await tempConfig();
  const root = resolve(ROOT, TEST_BIN, "install");
  const install = await new Deno.Command(Deno.execPath(), {
    args: [
      "install",
      "--global",
      "--force",
      "--root",
      root,
      "--name",
      "loopauth",
      `--allow-import=127.0.0.1:${server.addr.port}`,
      ...runFlags(home.dir),
      `${server.origin}/main.ts`,
    ],
    cwd: cwd.path,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
  const bin = join(root, "bin", Deno.build.os === "windows" ? "loopauth.cmd" : "loopauth");
  // The installed script runs `deno`: put this Deno first on PATH.
  const path = `${dirname(Deno.execPath())}${Deno.build.os === "windows" ? ";" : ":"}${
    Deno.env.get("PATH") ?? ""
  }`;
  const options = {
    configHome: home.home,
    command: [bin] as [string],
    cwd: cwd.path,
    env: { PATH: path },
  };

  const version = await runCli(["--version"], options);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `loopauth ${VERSION}\n`);

  const provider = startDevProvider({ autoApprove: true });
  try {
    const login = await loginWith(provider, options);
    assert.equal(login.code, 0, login.stderr);
    const token = await runCli(["token", "--hostname", provider.origin], options);
    assert.equal(token.code, 0, token.stderr);
    assert.deepEqual(provider.activeTokens(), [token.stdout.trim()]);
    const missing = await runCli(["token"], options);
    assert.equal(missing.code, EXIT_CODES.not_logged_in);
  } finally {
    await provider.close();
  }
});
