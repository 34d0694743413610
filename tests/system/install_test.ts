/**
 * The README's install, pasted as printed on a fresh machine: a new HOME
 * (0700), a PATH of the few programs such a machine has (Node and npm, with
 * or without Deno), the installer fetched from the checkout served on
 * 127.0.0.1 in place of the release URL; then a fresh shell with the PATH
 * line the installer printed, and the agent with XDG_RUNTIME_DIR and
 * XDG_CONFIG_HOME unset, then set to new directories.
 *
 * DENO_DIR is passed on: loopauth's npm packages come from the npm registry,
 * which a test may not reach; the test's Deno cache already holds them.
 */
import assert from "node:assert/strict";
import { VERSION } from "../../lib/core/version.ts";
import { INSTALL_SCRIPT } from "../../scripts/permissions.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { startDevProvider } from "../../lib/dev/provider.ts";
import { ROOT, serveCheckout, tempDir, TEST_TMP_DIR } from "../helpers.ts";
import { BASE_TOOLS, readmeInstall, shell, toolsDir } from "../helpers/install.ts";

/** The environment of a new login on a fresh machine: HOME, PATH and Deno's cache only. */
function freshEnv(home: string, path: string, extra: Record<string, string> = {}) {
  const env: Record<string, string> = { HOME: home, PATH: path, ...extra };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return env;
}

/** A fake npm that records its arguments and "installs" deno by linking this Deno. */
async function fakeNpm(): Promise<{ dir: string; log: string }> {
  const dir = await tempDir("npm");
  const log = `${dir}/calls.log`;
  await Deno.writeTextFile(
    `${dir}/npm`,
    `#!/bin/sh
printf '%s\\n' "$*" >> '${log}'
prefix=""
while [ $# -gt 0 ]; do case $1 in --prefix) prefix=$2; shift 2 ;; *) shift ;; esac; done
mkdir -p "$prefix/node_modules/deno" && ln -s '${Deno.execPath()}' "$prefix/node_modules/deno/deno"
`,
    { mode: 0o755 },
  );
  await Deno.chmod(`${dir}/npm`, 0o755);
  return { dir, log };
}

async function calls(log: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(log)).trimEnd().split("\n");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

Deno.test("the README's install, pasted as printed: a fresh shell runs loopauth, whose agent follows XDG_RUNTIME_DIR and XDG_CONFIG_HOME as they change; a second install changes nothing", async () => {
  await using server = serveCheckout();
  const home = await tempDir("home");
  const readme = await readmeInstall(server.origin);
  // Node and npm, and Deno on PATH (the installer keeps its absolute path).
  const tools = await toolsDir([...BASE_TOOLS, "node", "npm"], { deno: Deno.execPath() });
  const install = await shell(readme.paste, freshEnv(home, tools));
  assert.equal(install.code, 0, install.stderr);
  const shim = `${home}/.local/bin/loopauth`;
  assert.match(
    install.stdout,
    new RegExp(`^Installed loopauth ${VERSION.replaceAll(".", "\\.")} as ${shim} `, "m"),
  );
  // The PATH line it says to add is the README's.
  const said = install.stdout.trimEnd().split("\n").at(-1)!.trim();
  assert.equal(said, readme.pathLine);
  assert.equal((await Deno.stat(shim)).mode! & 0o777, 0o755);

  // A fresh shell: no Deno, no npm on its PATH; the README's PATH line, then its next line.
  const bare = await toolsDir(["bash", "id"]);
  const run = (script: string, extra: Record<string, string> = {}) =>
    shell(`${readme.pathLine}\n${script}`, freshEnv(home, bare, extra));
  const version = await run(readme.rest.join("\n"));
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `loopauth ${VERSION}\n`);

  const runtime = await tempDir("run");
  const otherConfig = await tempDir("cfg");
  const sessions: [string, Record<string, string>, string][] = [
    ["XDG_RUNTIME_DIR unset", {}, `${home}/.config/loopauth/agent/agent.sock`],
    [
      "XDG_RUNTIME_DIR and XDG_CONFIG_HOME set",
      { XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: otherConfig },
      `${runtime}/loopauth/agent.sock`,
    ],
  ];
  for (const [what, extra, socket] of sessions) {
    try {
      const start = await run("loopauth agent start", extra);
      assert.equal(start.code, 0, `${what}: ${start.stderr}`);
      assert.equal(start.stdout, `export LOOPAUTH_AGENT=${socket}\n`, what);
      const status = await run("loopauth agent status", extra);
      assert.equal(status.code, 0, `${what}: ${status.stderr}`);
      assert.match(status.stdout, new RegExp(`^Agent at ${socket}: running `), what);
    } finally {
      const stop = await run("loopauth agent stop", extra);
      assert.equal(stop.code, 0, `${what}: ${stop.stderr}`);
    }
    const after = await run("loopauth agent status", extra);
    assert.notEqual(after.code, 0, `${what}: the agent stopped`);
  }

  // Installing again: the same command, still working.
  const before = await Deno.readTextFile(shim);
  const again = await shell(readme.paste, freshEnv(home, tools));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trimEnd().split("\n").at(-1)!.trim(), readme.pathLine);
  assert.equal(await Deno.readTextFile(shim), before);
  const still = await run("loopauth --version");
  assert.equal(still.stdout, `loopauth ${VERSION}\n`, still.stderr);

  // docs/install.md's uninstall, as printed: nothing of the install is left.
  const uninstall = await shell(await docsUninstall(), freshEnv(home, tools));
  assert.equal(uninstall.code, 0, uninstall.stderr);
  assert.deepEqual([...Deno.readDirSync(`${home}/.local/bin`)], []);
  assert.deepEqual([...Deno.readDirSync(`${home}/.local/share`)], []);
  const gone = await run("loopauth --version");
  assert.equal(gone.code, 127, gone.stderr);
});

/** The command block of docs/install.md's "### Uninstall". */
async function docsUninstall(): Promise<string> {
  const doc = await Deno.readTextFile(`${ROOT}/docs/install.md`);
  const block = /\n### Uninstall\n[^#]*?```sh\n([\s\S]*?)\n```/.exec(doc);
  assert.ok(block, "docs/install.md says how to uninstall");
  return block[1];
}

Deno.test("no Deno on the machine: the installer says and runs npm's install of deno@2.9.6 into its own prefix, once; the command uses that Deno", async () => {
  await using server = serveCheckout();
  const home = await tempDir("home");
  const readme = await readmeInstall(server.origin);
  // npm's registry is out of a test's reach: a fake npm records its call and "installs"
  // this Deno where the real one puts it (node_modules/deno/deno).
  const npm = await fakeNpm();
  const tools = await toolsDir([...BASE_TOOLS, "node", "ln", "find"], { npm: `${npm.dir}/npm` });
  const prefix = `${home}/.local/share/loopauth/deno-2.9.6`;
  // Under a umask that lets the group write (common), as a user's shell may have it.
  const install = await shell(`umask 0002\n${readme.paste}`, freshEnv(home, tools));
  assert.equal(install.code, 0, install.stderr);
  // Nobody else may change the Deno it runs, the lock file or the command.
  const writable = await shell(`find "$HOME/.local" ! -type l -perm /022`, freshEnv(home, tools));
  assert.equal(writable.code, 0, writable.stderr);
  assert.equal(writable.stdout, "", "nothing under ~/.local is writable by group or others");
  assert.ok(
    install.stdout.includes(`  npm install --prefix ${prefix} deno@2.9.6\n`),
    install.stdout,
  );
  assert.deepEqual(await calls(npm.log), [
    `install --prefix ${prefix} --no-save --no-package-lock --no-audit --no-fund --loglevel=error deno@2.9.6`,
  ]);
  const shim = await Deno.readTextFile(`${home}/.local/bin/loopauth`);
  assert.match(shim, new RegExp(`^deno='${prefix}/node_modules/deno/deno'$`, "m"));

  const bare = await toolsDir(["bash", "id"]);
  const version = await shell(
    `${readme.pathLine}\nloopauth --version`,
    freshEnv(home, bare),
  );
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `loopauth ${VERSION}\n`);

  // Again: the Deno it installed is found, npm is not run a second time.
  const again = await shell(readme.paste, freshEnv(home, tools));
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await calls(npm.log)).length, 1);

  // That Deno removed: one line whose hint, run as printed, installs it again.
  await Deno.remove(prefix, { recursive: true });
  const lost = await shell(`${readme.pathLine}\nloopauth --version`, freshEnv(home, bare));
  assert.equal(lost.code, 127);
  assert.equal(lost.stdout, "");
  const hint = new RegExp(
    `^Error: loopauth cannot find Deno at ${prefix}/node_modules/deno/deno: install it again with (curl .*)\n$`,
  ).exec(lost.stderr);
  assert.ok(hint, lost.stderr);
  const reinstall = await shell(hint[1], freshEnv(home, tools));
  assert.equal(reinstall.code, 0, reinstall.stderr);
  assert.equal((await calls(npm.log)).length, 2);
  const back = await shell(`${readme.pathLine}\nloopauth --version`, freshEnv(home, bare));
  assert.equal(back.stdout, `loopauth ${VERSION}\n`, back.stderr);
});

Deno.test("a Deno in ~/.deno/bin (deno.land's installer) is found when PATH has none; npm is not run; --host adds a GHES host; a loopauth first on PATH is named", async () => {
  await using server = serveCheckout();
  const home = await tempDir("home");
  await Deno.mkdir(`${home}/.deno/bin`, { recursive: true, mode: 0o700 });
  const readme = await readmeInstall(server.origin);
  const link = await shell(`ln -s '${Deno.execPath()}' "$HOME/.deno/bin/deno"`, {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  });
  assert.equal(link.code, 0, link.stderr);
  const npm = await fakeNpm();
  const tools = await toolsDir([...BASE_TOOLS, "node"], { npm: `${npm.dir}/npm` });
  const install = await shell(`${readme.paste} --host ghe.example.com`, freshEnv(home, tools));
  assert.equal(install.code, 0, install.stderr);
  assert.deepEqual(await calls(npm.log), []);
  const shim = await Deno.readTextFile(`${home}/.local/bin/loopauth`);
  assert.match(shim, new RegExp(`^deno='${home}/.deno/bin/deno'$`, "m"));
  // --host: a GHES host joins the hosts the command may reach.
  assert.match(shim, /^hosts='github\.com,api\.github\.com,ghe\.example\.com'$/m);

  // An older loopauth first on PATH (deno install -g's, say) is named.
  const older = await toolsDir([...BASE_TOOLS, "node"], {
    npm: `${npm.dir}/npm`,
    loopauth: "/bin/true",
  });
  const shadowed = await shell(readme.paste, freshEnv(home, `${older}:${home}/.local/bin`));
  assert.equal(shadowed.code, 0, shadowed.stderr);
  assert.equal(
    shadowed.stdout.trimEnd().split("\n").at(-1),
    `Note: ${older}/loopauth comes first on your PATH: remove it, or put ${home}/.local/bin before it`,
  );
  const alone = await shell(readme.paste, freshEnv(home, `${tools}:${home}/.local/bin`));
  assert.equal(alone.stdout.trimEnd().split("\n").at(-1), "Run: loopauth --version");
});

Deno.test("the installer's mistakes are one line each, exit 1, and nothing is written", async () => {
  await using server = serveCheckout();
  const home = await tempDir("home");
  const tools = await toolsDir([...BASE_TOOLS], { deno: Deno.execPath() });
  const script = `curl -fsSL ${server.origin}/${INSTALL_SCRIPT} | sh -s --`;
  const cases: [string, string][] = [
    ["", "Error: Name where loopauth is with --from URL: see docs/install.md"],
    ["--form x", "Error: Unknown option --form: see sh install.sh --help"],
    ["--from", "Error: --from needs a value: see sh install.sh --help"],
    [
      `--from ${server.origin} --host a.example,evil.example`,
      "Error: --host takes a host name such as ghe.example.com, not a.example,evil.example",
    ],
  ];
  for (const [args, message] of cases) {
    const out = await shell(`${script} ${args}`, freshEnv(home, tools));
    assert.equal(out.code, 1, args);
    assert.equal(out.stderr, `${message}\n`, args);
    assert.equal(out.stdout, "", args);
  }
  assert.deepEqual([...Deno.readDirSync(home)], []);
  const help = await shell(`${script} --help`, freshEnv(home, tools));
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: sh install\.sh --from URL/);
});

Deno.test("the installed command names a host its flags leave out with the paste that adds it (--host), and that paste, run as printed, lets the same command reach it", async () => {
  await using server = serveCheckout();
  const home = await tempDir("home");
  const readme = await readmeInstall(server.origin);
  const tools = await toolsDir([...BASE_TOOLS], { deno: Deno.execPath() });
  const install = await shell(readme.paste, freshEnv(home, tools));
  assert.equal(install.code, 0, install.stderr);
  // A GitHub Enterprise Server-like host: the built-in provider over https as localhost:PORT.
  const provider = startDevProvider({ tls: true, dir: TEST_TMP_DIR });
  try {
    const host = `localhost:${new URL(provider.origin).port}`;
    const env = freshEnv(home, tools, {
      DENO_CERT: provider.caFile!,
      LOOPAUTH_TOKEN: `gho_${"a".repeat(36)}`,
    });
    const api = () => shell(`${readme.pathLine}\nloopauth api /user -h ${host}`, env);
    const denied = await api();
    assert.equal(denied.code, EXIT_CODES.permission, denied.stderr);
    const hint =
      /^Error: This installed loopauth may not reach localhost: install it again with (curl .* --host localhost)\n$/
        .exec(denied.stderr);
    assert.ok(hint, denied.stderr);
    assert.equal(hint[1], `${readme.paste} --host localhost`);
    assert.equal(provider.requests.length, 0);

    const again = await shell(hint[1], freshEnv(home, tools));
    assert.equal(again.code, 0, again.stderr);
    const reached = await api();
    assert.notEqual(reached.code, EXIT_CODES.permission, reached.stderr);
    assert.ok(
      provider.requests.some((r) => r.path === "/api/v3/user"),
      `the API call reached the host: ${reached.stderr}`,
    );
  } finally {
    await provider.close();
  }
});
