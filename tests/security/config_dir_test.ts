/**
 * The attack suite, threat 4 of 9: a stolen or tampered config directory.
 * Another user who can write to it plants a config, a token or a symbolic
 * link; one who can read it takes the tokens; a tampered or corrupt file
 * must not pass for a good one, nor make git read extra credential lines;
 * and a directory that cannot be used must fail before the user consents,
 * not after. (A stolen directory with file storage holds the tokens: that
 * the keyring keeps them out of every file is tested in tests/system/keyring_test.ts.)
 * See tests/security_test.ts.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { actAsUser } from "../../lib/dev/provider.ts";
import { EXIT_CODES, LoopauthError } from "../../lib/core/errors.ts";
import { configPath, readConfig } from "../../lib/store/config.ts";
import { NOT_A_BEARER_TOKEN } from "../../lib/core/token_syntax.ts";
import { runFlags as documentedFlags } from "../../scripts/permissions.ts";
import {
  Cli,
  loginArgs,
  loginOnce,
  runCli,
  saveFileAccount,
  secretEnv,
  SOURCE_DIR,
  tempConfig,
  tokenRequests,
  withProvider,
} from "../helpers.ts";
import { exists, gitCredentialGet } from "../security_helpers.ts";

const FILE = ["--storage", "file"];

/** Runs a shell command (Deno.symlink needs unscoped permissions the tests do not have). */
async function sh(script: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-c", script, "sh", ...args] }).output();
  assert.ok(out.success, `${script}: ${new TextDecoder().decode(out.stderr)}`);
}

// Who may touch it: ssh's rules for ~/.ssh, and a lock that is never followed.

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test({
  name:
    "attack: a config directory or token file other users can write (or read) → refused with the chmod that fixes it; writes tighten what others may only read",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      assert.equal((await loginOnce(provider, configHome, ...FILE)).code, 0);
      const [token] = provider.activeTokens();
      const host = ["--hostname", provider.origin];
      const commands = [
        ["token", ...host],
        ["status", "--offline", ...host],
        ["switch", ...host, "--user", "octocat"],
        ["api", "/user", ...host],
        ["logout", ...host],
      ];
      const refused = async (path: string, reason: string) => {
        for (const args of commands) {
          const out = await runCli(args, { configHome });
          assert.equal(out.code, EXIT_CODES.storage, `${args[0]}: ${out.stderr}`);
          assert.equal(out.stdout, "", `${args[0]} printed nothing`);
          assert.equal(out.stderr, `Error: Refusing to use ${path}: ${reason}`, args[0]);
        }
      };
      const tokens = `${dir}/tokens.json`;
      const config = `${dir}/config.json`;
      // The review's case: 0666 files in a 0777 directory.
      await Deno.chmod(dir, 0o777);
      for (const file of [tokens, config]) await Deno.chmod(file, 0o666);
      await refused(dir, `other users can write to it (mode 0777): run chmod 700 ${dir}`);
      assert.equal(await mode(dir), 0o777, "not tightened without a word: the user has to look");
      // The directory fixed, the files not: `switch` used to leave tokens.json at 0666.
      await Deno.chmod(dir, 0o700);
      await Deno.chmod(config, 0o600);
      await refused(tokens, `other users can write to it (mode 0666): run chmod 600 ${tokens}`);
      await Deno.chmod(tokens, 0o644);
      await refused(
        tokens,
        `other users can read it (mode 0644): run chmod 600 ${tokens}, and loopauth logout if they may have read its tokens`,
      );
      await Deno.chmod(tokens, 0o600);
      await Deno.chmod(config, 0o666);
      await refused(config, `other users can write to it (mode 0666): run chmod 600 ${config}`);
      assert.deepEqual(provider.activeTokens(), [token], "logout revoked nothing meanwhile");
      // What others may only read is used, and the next write tightens all of it.
      await Deno.chmod(config, 0o644);
      await Deno.chmod(dir, 0o755);
      await Deno.chmod(`${dir}/lock`, 0o644);
      const out = await runCli(["token", ...host], { configHome });
      assert.equal(out.stdout, `${token}\n`, out.stderr);
      const switched = await runCli(["switch", ...host, "--user", "octocat"], { configHome });
      assert.equal(switched.code, 0, switched.stderr);
      assert.equal(await mode(dir), 0o700);
      for (const file of [tokens, config, `${dir}/lock`]) {
        assert.equal(await mode(file), 0o600, file);
      }
    });
  },
});

Deno.test({
  name:
    "attack: a config directory (or token file) that belongs to another user → refused, exit 8, login before the browser opens",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      assert.equal((await loginOnce(provider, configHome, ...FILE)).code, 0);
      const host = ["--hostname", provider.origin];
      const nobody = 65534;
      const chown = async (path: string, uid: number) => {
        try {
          await Deno.chown(path, uid, uid);
        } catch (error) {
          throw new Error(`This test gives files to uid ${nobody}: run it as root (${error})`);
        }
      };
      const files = ["config.json", "tokens.json", "lock"].map((name) => `${dir}/${name}`);
      try {
        // Modes as loopauth leaves them (0700, 0600): only the owner is wrong.
        for (const path of [dir, ...files]) await chown(path, nobody);
        for (const args of [["token", ...host], ["status", "--offline"], ["logout", "--all"]]) {
          const out = await runCli(args, { configHome });
          assert.equal(out.code, EXIT_CODES.storage, `${args[0]}: ${out.stderr}`);
          assert.equal(out.stdout, "");
          assert.equal(
            out.stderr,
            `Error: Refusing to use ${dir}: it belongs to another user (uid ${nobody}): use a config directory of your own`,
          );
        }
        const login = await runCli(loginArgs(provider, ...FILE, "--timeout", "5s"), {
          configHome,
          env: secretEnv(provider),
        });
        assert.equal(login.code, EXIT_CODES.storage, login.stderr);
        assert.doesNotMatch(login.stderr, /\/login\/oauth\/authorize/, "before the browser");
        // The directory is the user's again, a token file in it is not: planted.
        await chown(dir, 0);
        const planted = await runCli(["token", ...host], { configHome });
        assert.equal(planted.code, EXIT_CODES.storage);
        assert.equal(
          planted.stderr,
          `Error: Refusing to use ${dir}/config.json: it belongs to another user (uid ${nobody}): remove it and log in again`,
        );
      } finally {
        for (const path of [dir, ...files]) await Deno.chown(path, 0, 0).catch(() => {});
      }
      assert.equal((await runCli(["token", ...host], { configHome })).code, 0);
    });
  },
});

Deno.test({
  name:
    "attack: a lock file replaced by a symbolic link (dangling, or to another file) → refused and never followed: no target created, none touched",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      assert.equal((await loginOnce(provider, configHome, ...FILE)).code, 0);
      const host = ["--hostname", provider.origin];
      // A dangling link (followed, it would create its target: Deno does so under -A) and a
      // link to an existing file (followed, loopauth would open and lock someone else's file).
      const dangling = `${dir}/planted-by-attacker`;
      const victim = `${configHome}/victim`;
      await Deno.writeTextFile(victim, "not a lock\n");
      await Deno.chmod(victim, 0o644);
      for (const target of [dangling, victim]) {
        await sh('ln -sfn "$1" "$2"', target, `${dir}/lock`);
        const out = await runCli(["switch", ...host, "--user", "octocat"], { configHome });
        assert.equal(out.code, EXIT_CODES.storage, `→ ${target}: ${out.stderr}`);
        assert.equal(
          out.stderr,
          `Error: Refusing to use ${dir}/lock: it is a symbolic link, not the lock file loopauth creates (remove it)`,
        );
        const login = await runCli(loginArgs(provider, ...FILE, "--timeout", "5s"), {
          configHome,
          env: secretEnv(provider),
        });
        assert.equal(login.code, EXIT_CODES.storage, `login → ${target}: ${login.stderr}`);
        assert.equal(login.stderr, out.stderr, "login: refused before the browser opens");
        assert.equal((await Deno.lstat(`${dir}/lock`)).isSymlink, true, "the link is left alone");
      }
      assert.equal(await exists(dangling), false, "the link's target was not created");
      assert.equal(await Deno.readTextFile(victim), "not a lock\n");
      assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
      // The account survived: once the link is gone, loopauth makes its own lock again.
      await Deno.remove(`${dir}/lock`);
      const out = await runCli(["switch", ...host, "--user", "octocat"], { configHome });
      assert.equal(out.code, 0, out.stderr);
      assert.equal((await Deno.lstat(`${dir}/lock`)).isFile, true);
    });
  },
});

Deno.test({
  name:
    "attack: an unusable config directory → login fails before the browser opens, no token issued and thrown away",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      const attempt = async (flags?: string[]) => {
        const cli = new Cli(loginArgs(provider, ...FILE), {
          configHome,
          flags,
          env: secretEnv(provider),
        });
        const url = await cli.authorizationUrl().catch(() => undefined);
        if (url) await actAsUser(url).catch(() => {}); // today's code: the user consents in vain
        return { url, ...(await cli.output()) };
      };
      const check = (out: { url?: string; code: number; stderr: string }, code: number) => {
        assert.equal(out.url, undefined, `no authorization URL: ${out.stderr}`);
        assert.equal(out.code, code, out.stderr);
        assert.equal(out.stderr.split("\n").length, 1, out.stderr);
        assert.deepEqual(tokenRequests(provider), [], "no code was redeemed");
        assert.deepEqual(provider.activeTokens(), []);
      };
      // The directory's name is taken by a file.
      await Deno.writeTextFile(dir, "not a directory\n");
      const file = await attempt();
      check(file, EXIT_CODES.storage);
      assert.match(file.stderr, new RegExp(`^Error: Cannot write to ${dir}: `));
      await Deno.remove(dir);
      // A directory nobody may write to (root ignores modes: the immutable flag stops it too).
      // Probed first: root without CAP_LINUX_IMMUTABLE, or on overlayfs or tmpfs, can do neither.
      await Deno.mkdir(dir, { mode: 0o700 });
      await new Deno.Command("bash", {
        args: ["-c", 'chattr +i "$1" 2>/dev/null || chmod 500 "$1"', "sh", dir],
      }).output();
      try {
        const writable = await Deno.writeTextFile(`${dir}/probe`, "").then(() => true, () => false);
        if (writable) {
          console.log(
            "skipped: a directory nobody may write to (this user ignores modes and may not set the immutable flag here)",
          );
        } else {
          const locked = await attempt();
          check(locked, EXIT_CODES.storage);
          assert.match(locked.stderr, new RegExp(`^Error: Cannot (write to|open) ${dir}`));
        }
      } finally {
        await new Deno.Command("bash", {
          args: ["-c", 'chattr -i "$1" 2>/dev/null; chmod 700 "$1"; rm -f "$1/probe"', "sh", dir],
        }).output();
      }
      // Deno may not write there: the permission is named, still before the browser.
      const flags = [
        "--no-prompt",
        ...documentedFlags(dir, [], { source: SOURCE_DIR }).filter((f) =>
          !f.startsWith("--allow-write")
        ),
      ];
      const denied = await attempt(flags);
      check(denied, EXIT_CODES.permission);
      assert.match(denied.stderr, /--allow-write/);
    });
  },
});

// What it holds: a tampered or corrupt file is refused, never taken for a good one.

Deno.test("attack: a corrupt tokens.json makes status report success (exit 0) → exit 8 naming the file", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    for (const garbage of ["{garbage", '{"hosts": 5}', "[]", ""]) {
      await Deno.writeTextFile(`${configDir}/tokens.json`, garbage, { mode: 0o600 });
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

Deno.test("attack: a stored login or token with a newline (an old or tampered store) → the git helper prints nothing for that host (for a token, one line on stderr)", async () => {
  await using config = await tempConfig();
  const host = "http://127.0.0.1:9";
  const request = "protocol=http\nhost=127.0.0.1:9\n\n";
  const save = (login: string, accessToken: string) =>
    saveFileAccount(config.dir, { host, login, accessToken });

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
    const what = JSON.stringify([login, token]);
    assert.equal(cli.stdout, "", `${what}: nothing printed`);
    if (token === "gho_fine") {
      assert.equal(cli.code, 0, what);
      continue;
    }
    // A token is checked when it is read (tests/security/env_tokens_test.ts): git shows the line.
    assert.equal(cli.code, EXIT_CODES.storage, what);
    assert.equal(
      cli.stderr,
      `Error: The token of octocat on ${host} in ${config.dir}/tokens.json ${NOT_A_BEARER_TOKEN}: run loopauth login --hostname ${host}\n`,
      what,
    );
  }
});

Deno.test("attack: random content in config.json (fast-check) → read, or refused as a storage error", async () => {
  await using config = await tempConfig();
  await Deno.mkdir(config.dir, { recursive: true, mode: 0o700 });
  const messages = new Set<string>();
  let read = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string(),
        fc.json(),
        fc.jsonValue().map((v) => JSON.stringify({ hosts: v })),
        fc.jsonValue().map((v) => JSON.stringify({ version: 1, hosts: v })),
        // Well-formed files with random host names: these must be read.
        fc.dictionary(fc.string(), fc.constant({ accounts: {} }))
          .map((hosts) => JSON.stringify({ version: 1, hosts })),
      ),
      async (text) => {
        await Deno.writeTextFile(configPath(config.dir), text, { mode: 0o600 });
        try {
          readConfig(config.dir);
          read++;
        } catch (error) {
          assert.ok(error instanceof LoopauthError, String(error));
          assert.equal(error.code, "storage");
          messages.add(error.message);
        }
      },
    ),
    { numRuns: 300 },
  );
  // Not vacuous: some contents were read, and a refusal is about the content, not the directory.
  assert.ok(read > 0, "no random config.json was ever read");
  for (const message of messages) assert.doesNotMatch(message, /other users|mode 0/, message);
});
