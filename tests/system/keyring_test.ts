/**
 * Storage through the real CLI: a real Secret Service (gnome-keyring on a
 * private D-Bus session), the forced and missing keyring, a keyring that
 * hangs, and the plain-text fallback surviving kill -9 mid-write.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { runFlags as documentedRunFlags } from "../../scripts/permissions.ts";
import { approveDeviceCode } from "../../lib/dev/provider.ts";
import {
  Cli,
  filesContaining,
  killWhileWriting,
  loginWith,
  runCli,
  SOURCE_DIR,
  startKeyring,
  tempConfig,
  withProvider,
} from "../helpers.ts";

Deno.test("keyring: the token is in the Secret Service and in no file; logout removes it", async () => {
  await using keyring = await startKeyring();
  await withProvider(async (provider, configHome) => {
    const options = { configHome, env: keyring.env };
    const login = await loginWith(provider, options, "--scopes", "repo");
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /^Token stored in the Secret Service keyring$/m);
    assert.doesNotMatch(login.stderr, /plain text/);
    const [token] = provider.activeTokens();
    const item = await keyring.lookup(provider.origin, "octocat");
    assert.ok(item, "the keyring has the account's item");
    assert.equal(JSON.parse(item).accessToken, token);
    assert.equal(JSON.parse(item).clientSecret, provider.clientSecret);
    // Not in the config directory, not in the keyring's own (encrypted) files, nowhere.
    assert.deepEqual(await filesContaining(configHome, token), []);
    assert.deepEqual(await filesContaining(keyring.dir, token), []);
    assert.deepEqual(await filesContaining(configHome, provider.clientSecret), []);
    const config = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/config.json`));
    assert.equal(config.hosts[provider.origin].accounts.octocat.storage, "keyring");

    const printed = await runCli(["token", "--hostname", provider.origin], options);
    assert.equal(printed.stdout, `${token}\n`, printed.stderr);
    const status = await runCli(["status", "--json", "--hostname", provider.origin], options);
    assert.equal(status.code, 0, status.stderr);
    const [account] = JSON.parse(status.stdout).hosts[0].accounts;
    assert.equal(account.source, "keyring");
    assert.equal(account.state, "valid");
    assert.deepEqual(account.scopes, ["repo"]);

    const out = await runCli(["logout", "--hostname", provider.origin], options);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(await keyring.lookup(provider.origin, "octocat"), undefined);
    assert.deepEqual(provider.activeTokens(), []);
  });
});

Deno.test("keyring reads go over D-Bus with the bus's flags, through secret-tool without", async () => {
  await using keyring = await startKeyring();
  await withProvider(async (provider, configHome, configDir) => {
    const login = await loginWith(provider, { configHome, env: keyring.env });
    assert.equal(login.code, 0, login.stderr);
    const [token] = provider.activeTokens();
    // A secret-tool that notes each start, then does the real work.
    const bin = `${configHome}/bin`;
    await Deno.mkdir(bin, { mode: 0o700 });
    const log = `${configHome}/secret-tool.log`;
    const real =
      (await new Deno.Command("bash", { args: ["-c", "command -v secret-tool"] }).output())
        .stdout;
    await Deno.writeTextFile(
      `${bin}/secret-tool`,
      `#!/bin/sh\necho "$1" >> '${log}'\nexec '${new TextDecoder().decode(real).trim()}' "$@"\n`,
      { mode: 0o755 },
    );
    const env = { ...keyring.env, PATH: `${bin}:${Deno.env.get("PATH")}` };
    const started = async () =>
      (await Deno.readTextFile(log).catch(() => "")).split("\n")
        .filter(Boolean);
    const hostname = ["--hostname", provider.origin];
    const direct = await runCli(["token", ...hostname], { configHome, env });
    assert.equal(direct.stdout, `${token}\n`, direct.stderr);
    const status = await runCli(["status", "--json", ...hostname], { configHome, env });
    assert.equal(JSON.parse(status.stdout).hosts[0].accounts[0].state, "valid", status.stderr);
    assert.deepEqual(await started(), [], "no secret-tool with the bus's flags");
    // Without them (the bus not granted), secret-tool reads as before.
    const flags = ["--no-prompt", ...documentedRunFlags(configDir, [], { source: SOURCE_DIR })];
    const spawned = await runCli(["token", ...hostname], { configHome, env, flags });
    assert.equal(spawned.stdout, `${token}\n`, spawned.stderr);
    assert.deepEqual(await started(), ["lookup"]);
  });
});

Deno.test("keyring forced where none works: clear error, exit 8, nothing stored", async () => {
  await withProvider(async (provider, configHome) => {
    // No D-Bus session in the child's environment: secret-tool cannot reach a keyring.
    for (const how of [["--storage", "keyring"], []]) {
      const env: Record<string, string> = how.length ? {} : { LOOPAUTH_STORAGE: "keyring" };
      const cli = await runCli(
        [
          "login",
          "--hostname",
          provider.origin,
          "--client-id",
          provider.clientId,
          "--no-browser",
          ...how,
        ],
        { configHome, env },
      );
      assert.equal(cli.code, EXIT_CODES.storage);
      assert.match(
        cli.stderr,
        /^Error: No OS keyring is available \(.+\): use --storage file to store the token in a file$/,
      );
      assert.equal(cli.stderr.trimEnd().split("\n").length, 1, "before any browser step");
    }
    await assert.rejects(
      () => Deno.stat(`${configHome}/loopauth/config.json`),
      Deno.errors.NotFound,
    );
    await assert.rejects(
      () => Deno.stat(`${configHome}/loopauth/tokens.json`),
      Deno.errors.NotFound,
    );
    assert.deepEqual(provider.requests, [], "nothing reached the server");
  });
});

Deno.test("a keyring that never answers ends with a clear message, not a hang", async () => {
  await using config = await tempConfig();
  const bin = `${config.home}/bin`;
  await Deno.mkdir(bin, { mode: 0o700 });
  // A stand-in for a locked keyring waiting on a password prompt: it never answers, so
  // only loopauth's own timeout can end the run (runCli's bounded wait fails a hang).
  await Deno.writeTextFile(`${bin}/secret-tool`, "#!/bin/sh\nexec sleep 3600\n", {
    mode: 0o755,
  });
  const cli = await runCli(
    ["login", "--client-id", "x", "--no-browser", "--hostname", "http://127.0.0.1:9"],
    {
      configHome: config.home,
      env: { PATH: `${bin}:${Deno.env.get("PATH")}`, LOOPAUTH_KEYRING_TIMEOUT: "500ms" },
    },
  );
  assert.equal(cli.code, EXIT_CODES.storage);
  assert.match(
    cli.stderr,
    /^Error: The OS keyring did not answer within 500ms \(locked and waiting for a password\?\): unlock it, or use --storage file$/,
  );
});

Deno.test("file storage: the warning names the file and why; kill -9 mid-write leaves a whole file", async () => {
  await withProvider(async (provider, configHome) => {
    const login = await loginWith(provider, { configHome }, "--storage", "file");
    assert.equal(login.code, 0, login.stderr);
    const path = `${configHome}/loopauth/tokens.json`;
    assert.match(
      login.stderr,
      new RegExp(
        `^Warning: token in plain text \\(mode 0600\\) at ${path.replaceAll(".", "\\.")}$`,
        "m",
      ),
    );
    const auto = await loginWith(provider, { configHome });
    assert.match(
      auto.stderr,
      /^Warning: token in plain text \(mode 0600\) at .*tokens\.json\nKeep tokens in memory instead: run loopauth agent start and log in again \(no OS keyring: .+\)$/m,
    );
  });

  await using config = await tempConfig();
  const writer = fileURLToPath(new URL("../fixtures/write_tokens.ts", import.meta.url));
  const path = `${config.dir}/tokens.json`;
  for (let round = 0; round < 6; round++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${config.dir}`,
        `--allow-write=${config.dir}`,
        writer,
        config.dir,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    // Wait until it has written at least once, then kill it at a random moment.
    await killWhileWriting(child, 40);
    const data = JSON.parse(await Deno.readTextFile(path));
    const token = data.hosts["github.com"].octocat.accessToken as string;
    assert.match(token, /^gho_(old|new)_x+$/, `round ${round}: a whole token`);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  }
});

Deno.test("keyring: an item another program wrote where loopauth keeps an account's is one line whose login works as printed", async () => {
  await using keyring = await startKeyring();
  await withProvider(async (provider, configHome) => {
    const options = { configHome, env: keyring.env };
    assert.equal((await loginWith(provider, options)).code, 0);
    await keyring.store(provider.origin, "octocat", "not loopauth's");
    const token = await runCli(["token", "--hostname", provider.origin], options);
    assert.equal(token.code, EXIT_CODES.storage, token.stderr);
    assert.equal(
      token.stderr,
      `Error: The keyring item of octocat on ${provider.origin} is not loopauth's: run loopauth login --hostname ${provider.origin}`,
    );
    // The login as printed (its stored secret was in that item: the device flow, which needs none).
    const hint = /: run loopauth (login .+)$/.exec(token.stderr)![1].split(" ");
    const login = new Cli(hint, options);
    const [, code] = /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(
      await login.waitForLine(/one-time code: /),
    )!;
    await approveDeviceCode(provider.origin, code);
    const again = await login.output();
    assert.equal(again.code, 0, again.stderr);
    const fixed = await runCli(["token", "--hostname", provider.origin], options);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(
      JSON.parse((await keyring.lookup(provider.origin, "octocat"))!).accessToken,
      fixed.stdout.trim(),
    );
  }, { deviceInterval: 0.2 });
});
