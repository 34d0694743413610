/**
 * The encrypted store (`--storage encrypted`, tokens.enc) through the real
 * CLI: the round trip, the passphrase from a file (its first line, kept
 * outside the config directory), from the terminal (not echoed) and from
 * the agent's cache; a wrong passphrase, a changed and a
 * cut file (one line, exit 8, nothing overwritten); kill -9 mid-write.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { encryptedStore } from "../../lib/store/encrypted.ts";
import { withLock } from "../../lib/store/lock.ts";
import {
  type CliOptions,
  filesContaining,
  killWhileWriting,
  loginWith,
  MAIN,
  PASSPHRASE,
  passphraseFile,
  runCli,
  runFlags,
  secretEnv,
  tempConfig,
  Tmux,
  waitUntil,
  withPassphrase,
  withProvider,
} from "../helpers.ts";

function errorLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0];
}

Deno.test("encrypted store: round trip; tokens.enc holds no readable secret; status and logout", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const options = withPassphrase(configHome, await passphraseFile());
    const login = await loginWith(provider, options, "--storage", "encrypted");
    assert.equal(login.code, 0, login.stderr);
    const path = `${configDir}/tokens.enc`;
    assert.match(login.stderr, new RegExp(`^Token stored in ${path.replaceAll(".", "\\.")}$`, "m"));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const [token] = provider.activeTokens();
    for (const secret of [token, provider.clientSecret]) {
      assert.deepEqual(await filesContaining(configHome, secret), []);
    }
    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.format, "loopauth-encrypted");
    assert.deepEqual(file.kdf.name, "scrypt");

    const hostname = ["--hostname", provider.origin];
    const printed = await runCli(["token", ...hostname], options);
    assert.deepEqual([printed.code, printed.stdout], [0, `${token}\n`], printed.stderr);
    const status = await runCli(["status", "--json", ...hostname], options);
    assert.equal(status.code, 0, status.stderr);
    const [account] = JSON.parse(status.stdout).hosts[0].accounts;
    assert.deepEqual([account.source, account.location, account.state], [
      "encrypted",
      path,
      "valid",
    ]);
    const logout = await runCli(["logout", ...hostname], options);
    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual(provider.activeTokens(), []);
    const after = await encryptedStore({
      dir: configDir,
      env: () => options.env!.LOOPAUTH_PASSPHRASE_FILE,
    }).get(provider.origin, "octocat");
    assert.equal(after, undefined, "logout removed the secrets from tokens.enc");
  });
});

Deno.test("encrypted store: a wrong passphrase, a changed and a cut file are one line, exit 8, nothing overwritten", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const options = withPassphrase(configHome, await passphraseFile());
    assert.equal((await loginWith(provider, options, "--storage", "encrypted")).code, 0);
    const path = `${configDir}/tokens.enc`;
    const original = await Deno.readTextFile(path);
    const hostname = ["--hostname", provider.origin];
    const loginArgs = [
      "login",
      ...hostname,
      "--client-id",
      provider.clientId,
      "--no-browser",
      "--web",
      "--storage",
      "encrypted",
    ];
    const expectFailure = async (options: CliOptions, message: RegExp) => {
      for (const args of [["token", ...hostname], loginArgs]) {
        const requests = provider.requests.length;
        const out = await runCli(args, { ...options, env: secretEnv(provider, options.env) });
        assert.equal(out.code, EXIT_CODES.storage, `${args[0]}: ${out.stderr}`);
        assert.match(errorLine(out.stderr), message, args[0]);
        assert.equal(provider.requests.length, requests, "nothing reached the server");
      }
    };

    await expectFailure(
      withPassphrase(configHome, await passphraseFile("not the passphrase\n")),
      /^Error: Wrong passphrase for .*tokens\.enc \(from LOOPAUTH_PASSPHRASE_FILE\): nothing was changed$/,
    );
    assert.equal(await Deno.readTextFile(path), original);

    // One character of the ciphertext changed: the GCM tag fails.
    const data = JSON.parse(original);
    const at = Math.floor(data.data.length / 2);
    const flipped = data.data[at] === "A" ? "B" : "A";
    await Deno.writeTextFile(
      path,
      JSON.stringify({ ...data, data: data.data.slice(0, at) + flipped + data.data.slice(at + 1) }),
    );
    const changed = await Deno.readTextFile(path);
    await expectFailure(
      options,
      /^Error: Cannot decrypt .*tokens\.enc: it was changed or damaged since loopauth wrote it \(the passphrase is right; restore the file, or delete it and log in again\)$/,
    );
    assert.equal(await Deno.readTextFile(path), changed, "the changed file stays as it was");

    const cut = original.slice(0, Math.floor(original.length / 2));
    await Deno.writeTextFile(path, cut);
    await expectFailure(
      options,
      /^Error: Cannot read .*tokens\.enc: it is cut short or not a loopauth encrypted tokens file \(restore it, or delete it and log in again\)$/,
    );
    assert.equal(await Deno.readTextFile(path), cut, "the cut file stays as it was");

    // Restored, it works again.
    await Deno.writeTextFile(path, original);
    const printed = await runCli(["token", ...hostname], options);
    assert.equal(printed.code, 0, printed.stderr);

    // No passphrase file and no terminal: said so, not a hang.
    const none = await runCli(["token", ...hostname], { configHome });
    assert.equal(none.code, EXIT_CODES.storage);
    assert.match(
      errorLine(none.stderr),
      /^Error: The passphrase for .*tokens\.enc is needed and there is no terminal to ask it on: set LOOPAUTH_PASSPHRASE_FILE, or run loopauth agent start and unlock it once on a terminal$/,
    );
  });
});

Deno.test("encrypted store: the passphrase is the first line of LOOPAUTH_PASSPHRASE_FILE (CR/LF stripped, later lines ignored); from a pipe; a file Deno may not read names the flag that works", async () => {
  await withProvider(async (provider, configHome) => {
    const first = withPassphrase(
      configHome,
      await passphraseFile(`${PASSPHRASE}\r\nsecond line\n`),
    );
    const login = await loginWith(provider, first, "--storage", "encrypted");
    assert.equal(login.code, 0, login.stderr);
    const [token] = provider.activeTokens();
    const hostname = ["--hostname", provider.origin];
    for (const text of [PASSPHRASE, `${PASSPHRASE}\n`, `${PASSPHRASE}\n\nanything\n`]) {
      const out = await runCli(
        ["token", ...hostname],
        withPassphrase(configHome, await passphraseFile(text)),
      );
      assert.deepEqual(
        [out.code, out.stdout],
        [0, `${token}\n`],
        `${JSON.stringify(text)}: ${out.stderr}`,
      );
    }
    const wrong = await runCli(
      ["token", ...hostname],
      withPassphrase(configHome, await passphraseFile(`${PASSPHRASE} and more\n`)),
    );
    assert.equal(wrong.code, EXIT_CODES.storage);
    assert.match(errorLine(wrong.stderr), /^Error: Wrong passphrase for /);
    const emptyFile = await passphraseFile(`\n${PASSPHRASE}\n`);
    const empty = await runCli(["token", ...hostname], withPassphrase(configHome, emptyFile));
    assert.equal(empty.code, EXIT_CODES.storage);
    assert.equal(
      errorLine(empty.stderr),
      `Error: LOOPAUTH_PASSPHRASE_FILE ${emptyFile} is empty: its first line is the passphrase`,
    );
    const longFile = await passphraseFile(`${"x".repeat(5000)}\n`);
    const long = await runCli(["token", ...hostname], withPassphrase(configHome, longFile));
    assert.equal(long.code, EXIT_CODES.storage);
    assert.equal(
      errorLine(long.stderr),
      `Error: Refusing to use LOOPAUTH_PASSPHRASE_FILE ${longFile}: its first line is longer than 4096 bytes`,
    );

    // Outside the documented flags' directories: Deno's denial, with the flag to add.
    const file = await passphraseFile();
    const env = { LOOPAUTH_PASSPHRASE_FILE: file };
    const flags = runFlags(`${configHome}/loopauth`, env);
    const denied = await runCli(["token", ...hostname], { configHome, env, flags });
    assert.equal(denied.code, EXIT_CODES.permission);
    const line = errorLine(denied.stderr);
    assert.equal(
      line,
      `Error: Deno denied read access to "${file}": run with --allow-read=${file}`,
    );
    const hint = line.slice(line.lastIndexOf(" ") + 1);
    const fixed = await runCli(["token", ...hostname], {
      configHome,
      env,
      flags: [...flags, hint],
    });
    assert.deepEqual([fixed.code, fixed.stdout], [0, `${token}\n`], fixed.stderr);

    // A pipe, as docs/agent.md shows it: LOOPAUTH_PASSPHRASE_FILE=<(pass show loopauth).
    const piped = await runCli(["token", ...hostname], {
      configHome,
      command: [
        "bash",
        "-c",
        'LOOPAUTH_PASSPHRASE_FILE=<(cat "$0") exec "$@"',
        file,
        Deno.execPath(),
        "run",
        ...runFlags(`${configHome}/loopauth`),
        "--allow-read=/dev/fd",
        MAIN,
      ],
    });
    assert.deepEqual([piped.code, piped.stdout], [0, `${token}\n`], piped.stderr);
  });
});

Deno.test("encrypted store: with an agent, the unlocked key is cached there and the passphrase is asked once", async () => {
  await withProvider(async (provider, configHome) => {
    const options = withPassphrase(configHome, await passphraseFile());
    const start = await runCli(["agent", "start", "--json"], { configHome });
    assert.equal(start.code, 0, start.stderr);
    const { pid } = JSON.parse(start.stdout);
    try {
      assert.equal(
        (await loginWith(provider, options, "--storage", "encrypted")).code,
        0,
      );
      // Now without the passphrase file and without a terminal: the agent has the key.
      const printed = await runCli(["token", "--hostname", provider.origin], { configHome });
      assert.equal(printed.code, 0, printed.stderr);
      assert.deepEqual(provider.activeTokens(), [printed.stdout.trim()]);
      const status = await runCli(["agent", "status", "--json"], { configHome });
      assert.equal(JSON.parse(status.stdout).items, 1, "one unlocked key, no account");
      assert.deepEqual(await filesContaining(configHome, printed.stdout.trim()), []);
    } finally {
      const stop = await runCli(["agent", "stop"], { configHome });
      assert.equal(stop.code, 0, stop.stderr);
      await waitUntil(async () => {
        const ps = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] })
          .output();
        const stat = new TextDecoder().decode(ps.stdout).trim();
        return stat === "" || stat.startsWith("Z");
      }, { what: "the agent to end" });
    }
    // The agent gone, the key is gone with it.
    const locked = await runCli(["token", "--hostname", provider.origin], { configHome });
    assert.equal(locked.code, EXIT_CODES.storage);
    assert.match(locked.stderr, /passphrase for .* is needed/);
  });
});

Deno.test("encrypted store: the passphrase asked on the terminal is not echoed", async () => {
  await withProvider(async (provider, configHome) => {
    const options = withPassphrase(configHome, await passphraseFile());
    assert.equal(
      (await loginWith(provider, options, "--storage", "encrypted")).code,
      0,
    );
    const [token] = provider.activeTokens();
    await using tmux = await Tmux.start(["token", "--hostname", provider.origin], { configHome });
    await tmux.waitFor(/Passphrase for .*tokens\.enc: /);
    await tmux.typeLine(PASSPHRASE);
    const screen = await tmux.waitUntil((s) => s.includes("[exit "), 30_000, "the exit");
    assert.match(screen, /\[exit 0\]/);
    assert.ok(screen.includes(token), "the token was printed");
    assert.ok(!screen.includes(PASSPHRASE), `the passphrase was not echoed:\n${screen}`);
  });
});

Deno.test("encrypted store: kill -9 mid-write leaves the old file or the new one, never a part", async () => {
  await using config = await tempConfig();
  const passphrase = await passphraseFile();
  const writer = fileURLToPath(new URL("../fixtures/write_encrypted.ts", import.meta.url));
  const read = encryptedStore({ dir: config.dir, env: () => passphrase });
  for (let round = 0; round < 5; round++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${config.dir},${passphrase}`,
        `--allow-write=${config.dir}`,
        writer,
        config.dir,
        passphrase,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    await killWhileWriting(child, 60);
    // The next holder of the lock settles a temp file the kill left.
    await withLock(config.dir, async () => {});
    const secrets = await read.get("github.com", "octocat");
    assert.match(secrets?.accessToken ?? "", /^gho_(old|new)_x+$/, `round ${round}: a whole token`);
    assert.equal((await Deno.stat(`${config.dir}/tokens.enc`)).mode! & 0o777, 0o600);
    const left = [...Deno.readDirSync(config.dir)].filter((e) => e.name.endsWith(".tmp"));
    assert.deepEqual(left, [], "no temp file is left behind");
  }
});
