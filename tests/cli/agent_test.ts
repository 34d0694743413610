/**
 * The token agent through the real CLI: its life cycle (start, several
 * processes at once, ttl, stop, killed and stuck), refresh through it, the
 * automatic choice, no secret in any file, a second user kept out, and
 * `agent forward` (what a remote reaching it over `ssh -R` gets is in
 * tests/security/agent_forward_test.ts).
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import type { DevProvider } from "../../lib/dev/provider.ts";
import { runFlags as documentedRunFlags } from "../../scripts/permissions.ts";
import {
  type CliOptions,
  filesContaining,
  gone,
  loginWith,
  runCli,
  shell,
  SOURCE_DIR,
  startAgent,
  tempDir,
  TEST_TMP_DIR,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

const mode = async (path: string) => (await Deno.lstat(path)).mode! & 0o777;

/** The one line of a failed run. */
function errorLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0];
}

Deno.test("agent: start, several processes at once, status, stop; no secret byte in any file", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const options = { configHome };
    await using agent = await startAgent(options);
    assert.equal(agent.socket, `${configDir}/agent/agent.sock`);
    assert.equal(await mode(`${configDir}/agent`), 0o700);
    assert.equal(await mode(agent.socket), 0o600);
    assert.equal(await mode(`${agent.socket}.key`), 0o600);
    assert.ok((await Deno.lstat(agent.socket)).isSocket);
    // Without --json: the export line for eval, and a second start is the same agent.
    const again = await runCli(["agent", "start"], options);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `export LOOPAUTH_AGENT=${agent.socket}\n`);
    assert.match(again.stderr, new RegExp(`already running .* \\(pid ${agent.pid}\\)`));

    const login = await loginWith(provider, options, "--storage", "agent");
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /^Token stored in the agent at .*agent\.sock$/m);
    const [token] = provider.activeTokens();
    const config = JSON.parse(await Deno.readTextFile(`${configDir}/config.json`));
    assert.equal(config.hosts[provider.origin].accounts.octocat.storage, "agent");

    const hostname = ["--hostname", provider.origin];
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => runCli(["token", ...hostname], options)),
    );
    for (const run of runs) assert.deepEqual([run.code, run.stdout], [0, `${token}\n`], run.stderr);
    const api = await runCli(["api", "/user", ...hostname], options);
    assert.equal(api.code, 0, api.stderr);
    assert.equal(JSON.parse(api.stdout).login, "octocat");

    const status = await runCli(["status", "--json", ...hostname], options);
    assert.equal(status.code, 0, status.stderr);
    const [account] = JSON.parse(status.stdout).hosts[0].accounts;
    assert.deepEqual([account.source, account.location, account.state], [
      "agent",
      `the agent at ${agent.socket}`,
      "valid",
    ]);
    const shown = await runCli(["agent", "status", "--json"], options);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(
      { ...JSON.parse(shown.stdout), expiresAt: "" },
      { socket: agent.socket, pid: agent.pid, items: 1, expiresAt: "" },
    );
    for (const secret of [token, provider.clientSecret]) {
      assert.deepEqual(await filesContaining(configHome, secret), [], "no file holds a secret");
    }

    const stop = await runCli(["agent", "stop"], options);
    assert.equal(stop.code, 0, stop.stderr);
    await waitUntil(() => gone(agent.pid), { what: "the agent to end" });
    assert.equal(await exists(agent.socket), false, "the socket is removed");
    assert.equal(await exists(`${agent.socket}.key`), false, "the key is removed");
    const after = await runCli(["token", ...hostname], options);
    assert.equal(after.code, EXIT_CODES.storage);
    assert.equal(
      errorLine(after.stderr),
      `Error: The agent at ${agent.socket} is not running: start one with loopauth agent start, then log in again`,
    );
    const none = await runCli(["agent", "status"], options);
    assert.equal(none.code, EXIT_CODES.storage);
    assert.equal(errorLine(none.stderr), `Error: No agent is running at ${agent.socket}`);
  });
});

Deno.test("agent: it ends by itself after --ttl and removes its socket", async () => {
  await withProvider(async (_provider, configHome) => {
    await using agent = await startAgent({ configHome }, "--ttl", "1s");
    await waitUntil(() => gone(agent.pid), { what: "the agent's ttl to end it" });
    assert.equal(await exists(agent.socket), false);
    const bad = await runCli(["agent", "start", "--ttl", "soon"], { configHome });
    assert.equal(bad.code, EXIT_CODES.usage);
  });
});

Deno.test("agent: killed or stuck, it is one line and exit 8, never a hang", async () => {
  await withProvider(async (provider, configHome) => {
    const options = { configHome };
    const hostname = ["--hostname", provider.origin];
    {
      await using agent = await startAgent(options);
      assert.equal((await loginWith(provider, options, "--storage", "agent")).code, 0);
      // Stopped (SIGSTOP): it accepts connections but never answers.
      await shell(`kill -STOP ${agent.pid}`);
      try {
        // Never answered, it would hang: runCli's bounded wait would fail the test.
        const stuck = await runCli(["token", ...hostname], options);
        assert.equal(stuck.code, EXIT_CODES.storage);
        assert.match(
          errorLine(stuck.stderr),
          /^Error: The agent at .* did not answer within 5s \(stopped or stuck\?\): end it, then run loopauth agent start$/,
        );
      } finally {
        await shell(`kill -CONT ${agent.pid}`);
      }
      await shell(`kill -9 ${agent.pid}`);
      await waitUntil(() => gone(agent.pid), { what: "the killed agent to end" });
      assert.ok(await exists(agent.socket), "a killed agent leaves its socket");
      const killed = await runCli(["token", ...hostname], options);
      assert.equal(killed.code, EXIT_CODES.storage);
      assert.match(errorLine(killed.stderr), /^Error: The agent at .* is not running: /);
    }
    // A new agent replaces the stale socket; the old secrets are gone with the old agent.
    await using fresh = await startAgent(options);
    const missing = await runCli(["token", ...hostname], options);
    assert.equal(missing.code, EXIT_CODES.not_logged_in, missing.stderr);
    assert.match(missing.stderr, /is missing from the agent at /);
    // Logging in again (here to the file) needs the agent only to forget the old secret.
    assert.equal((await loginWith(provider, options, "--storage", "file")).code, 0);
    const printed = await runCli(["token", ...hostname], options);
    assert.equal(printed.code, 0, printed.stderr);
    assert.ok(fresh.pid > 0);
  });
});

Deno.test("agent: refresh goes through it under the lock; no refresh token is spent twice", async () => {
  await withProvider(
    async (provider, configHome) => {
      const options = { configHome };
      await using _agent = await startAgent(options);
      assert.equal((await loginWith(provider, options, "--storage", "agent")).code, 0);
      const runs = await Promise.all(
        Array.from(
          { length: 4 },
          () => runCli(["token", "--hostname", provider.origin], options),
        ),
      );
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      const refreshes = tokenRequests(provider, "refresh_token").map((r) =>
        new URLSearchParams(r.body).get("refresh_token")
      );
      assert.ok(refreshes.length >= 1, "the expiring token was refreshed");
      assert.equal(new Set(refreshes).size, refreshes.length, "each refresh token spent once");
      // The agent holds the last pair: the printed token is one the server still accepts.
      const last = runs.map((r) => r.stdout.trim());
      assert.ok(last.some((t) => provider.activeTokens().includes(t)));
      assert.deepEqual(await filesContaining(configHome, last.at(-1)!), []);
    },
    { expiringTokens: { accessTtl: 30, refreshTtl: 3600 } },
  );
});

Deno.test("automatic choice: no keyring, an agent runs: the agent, and it says so; neither: the warning names loopauth agent start", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const options = { configHome };
    const plain = await loginWith(provider, options);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stderr,
      /^Warning: token in plain text \(mode 0600\) at .*tokens\.json\nKeep tokens in memory instead: run loopauth agent start and log in again \(no OS keyring: .+\)$/m,
    );
    await using agent = await startAgent(options);
    const auto = await loginWith(provider, options);
    assert.equal(auto.code, 0, auto.stderr);
    assert.match(
      auto.stderr,
      new RegExp(`^Token stored in the agent at ${agent.socket} \\(no OS keyring: .+\\)$`, "m"),
    );
    assert.doesNotMatch(auto.stderr, /plain text/);
    const config = JSON.parse(await Deno.readTextFile(`${configDir}/config.json`));
    assert.equal(config.hosts[provider.origin].accounts.octocat.storage, "agent");
    // The account moved: the plain-text copy is gone.
    const file = JSON.parse(await Deno.readTextFile(`${configDir}/tokens.json`));
    assert.deepEqual(file.hosts, {});
  });
});

Deno.test("a second user cannot reach the agent, even through a socket others may open", async () => {
  const probe = await new Deno.Command("setpriv", {
    args: ["--reuid=65534", "--regid=65534", "--clear-groups", "true"],
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: new TextEncoder().encode(`${error}`) }));
  if (!probe.success) {
    console.log(
      `skipped: cannot run a process as uid 65534 with setpriv (${
        new TextDecoder().decode(probe.stderr).trim()
      }): run the tests as root with util-linux`,
    );
    return;
  }
  await withProvider(async (provider, configHome) => {
    const options = { configHome };
    await using agent = await startAgent(options);
    assert.equal((await loginWith(provider, options, "--storage", "agent")).code, 0);
    // Every directory above the agent's own is opened to others (and closed again), so that
    // what refuses nobody below is loopauth's own modes, not the test's private root.
    const above = [TEST_TMP_DIR, configHome, `${configHome}/loopauth`];
    const modes = await Promise.all(above.map(mode));
    try {
      for (const dir of above) await Deno.chmod(dir, 0o711);
      const asNobody = (...args: string[]) =>
        new Deno.Command("setpriv", {
          args: ["--reuid=65534", "--regid=65534", "--clear-groups", "socat", ...args],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        });
      const request = `${JSON.stringify({ v: 1, key: "0".repeat(64), op: "get", item: "x" })}\n`;
      const ask = async (socket: string) => {
        const child = asNobody("-t", "5", "-", `UNIX-CONNECT:${socket}`).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(request)).catch(() => {});
        await writer.close().catch(() => {});
        const out = await child.output();
        return {
          code: out.code,
          stdout: new TextDecoder().decode(out.stdout),
          stderr: new TextDecoder().decode(out.stderr),
        };
      };
      const direct = await ask(agent.socket);
      assert.notEqual(direct.code, 0);
      assert.match(direct.stderr, /Permission denied/);
      const key = await new Deno.Command("setpriv", {
        args: [
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          "socat",
          "-u",
          `OPEN:${agent.socket}.key`,
          "-",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(key.success, false, "nobody cannot read the key");
      assert.match(new TextDecoder().decode(key.stderr), /Permission denied/);

      // A careless relay: a world-writable socket in a directory everyone may enter.
      const open = await tempDir("open");
      await Deno.chmod(open, 0o755);
      const relay = new Deno.Command("socat", {
        args: [`UNIX-LISTEN:${open}/relay.sock,fork,mode=777`, `UNIX-CONNECT:${agent.socket}`],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitUntil(() => exists(`${open}/relay.sock`), { what: "the relay to listen" });
        const relayed = await ask(`${open}/relay.sock`);
        assert.equal(relayed.code, 0, relayed.stderr);
        assert.deepEqual(JSON.parse(relayed.stdout), { ok: false, error: "forbidden" });
      } finally {
        relay.kill();
        await relay.status;
        await Deno.remove(open, { recursive: true });
      }
    } finally {
      for (const [i, dir] of above.entries()) await Deno.chmod(dir, modes[i]);
    }
  });
});

Deno.test("agent forward: the named hosts' agent accounts only, 0600 files, the recipe printed; a missing --host, a host not in the agent and an --out others may enter are one line each", async () => {
  await withProvider(async (provider: DevProvider, configHome, configDir) => {
    const local = { configHome };
    await using agent = await startAgent(local);
    assert.equal((await loginWith(provider, local, "--storage", "agent")).code, 0);
    const forward = await runCli(["agent", "forward", "--host", provider.origin], local);
    assert.equal(forward.code, 0, forward.stderr);
    const dir = `${configDir}/agent/forward`;
    assert.match(
      forward.stderr,
      new RegExp(
        `^Forwarded key 1: read-only, the access tokens of ${
          provider.origin.replaceAll(".", "\\.")
        }, until \\S+Z; written to ${dir}$`,
      ),
    );
    assert.equal(
      forward.stdout,
      [
        "# On the remote host (REMOTE: its name; REMOTE_HOME: your home directory there):",
        "ssh REMOTE 'mkdir -p -m 700 ~/.config/loopauth/agent'",
        `scp -p ${dir}/agent.sock.key REMOTE:.config/loopauth/agent/agent.sock.key`,
        `scp -p ${dir}/config.json REMOTE:.config/loopauth/config.json`,
        `ssh -R REMOTE_HOME/.config/loopauth/agent/agent.sock:${agent.socket} REMOTE`,
        "# There: export LOOPAUTH_AGENT=~/.config/loopauth/agent/agent.sock; loopauth token",
        "",
      ].join("\n"),
    );
    assert.equal(await mode(dir), 0o700);
    assert.equal(await mode(`${dir}/agent.sock.key`), 0o600);
    assert.equal(await mode(`${dir}/config.json`), 0o600);
    const key = (await Deno.readTextFile(`${dir}/agent.sock.key`)).trim();
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.notEqual(key, (await Deno.readTextFile(`${agent.socket}.key`)).trim());
    const forwarded = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.deepEqual(Object.keys(forwarded.hosts), [provider.origin]);
    assert.equal(forwarded.hosts[provider.origin].accounts.octocat.storage, "agent");
    const status = await runCli(["agent", "status"], local);
    assert.match(
      status.stdout,
      new RegExp(`^Forwarded key 1: read-only, the access tokens of .*, until \\S+Z$`, "m"),
    );

    const noHost = await runCli(["agent", "forward"], local);
    assert.equal(noHost.code, EXIT_CODES.usage);
    assert.equal(
      errorLine(noHost.stderr),
      "Error: loopauth agent forward needs at least one --host (the hosts whose tokens the remote may read)",
    );
    const elsewhere = await runCli(["agent", "forward", "--host", "github.com"], local);
    assert.equal(elsewhere.code, EXIT_CODES.not_logged_in);
    assert.equal(
      errorLine(elsewhere.stderr),
      "Error: No account of github.com is stored in the agent: log in with --storage agent first (loopauth status lists the hosts)",
    );
    const open = `${configDir}/open`;
    await Deno.mkdir(open, { mode: 0o755 });
    await Deno.chmod(open, 0o755);
    const loose = await runCli(
      ["agent", "forward", "--host", provider.origin, "--out", open],
      local,
    );
    assert.equal(loose.code, EXIT_CODES.usage);
    assert.equal(
      errorLine(loose.stderr),
      `Error: Refusing to write the forwarded key into ${open}: it is not a directory only you can enter: give a new --out directory`,
    );
    assert.equal(await mode(open), 0o755, "never chmod-ed");
    assert.deepEqual([...Deno.readDirSync(open)], []);
  });
});

Deno.test("a socket path too long for the OS: agent start falls back to a short private directory; an unsafe one is refused, never chmod-ed", async () => {
  await withProvider(async (provider) => {
    // A config directory deep enough that CONFIG/agent/agent.sock passes the 103 bytes a Unix
    // socket path may have (a long $HOME: NFS homes, a long checkout under a 0700 parent).
    const home = `${await tempDir("long")}/${"a-rather-long-home-directory-name".repeat(3)}`;
    await Deno.mkdir(home, { mode: 0o700 });
    const configDir = `${home}/loopauth`;
    assert.ok(new TextEncoder().encode(`${configDir}/agent/agent.sock`).length > 103);
    const tmp = await tempDir("tmp"); // TMPDIR: the fallback stays inside the test's root
    const uid = new TextDecoder().decode((await shell("id -u")).stdout).trim();
    const short = `${tmp}/loopauth-${uid}`;
    const options: CliOptions = {
      configHome: home,
      env: { TMPDIR: tmp },
      flags: [
        "--no-prompt",
        ...documentedRunFlags(configDir, [], { shortDir: short, source: SOURCE_DIR }),
      ],
    };
    {
      await using agent = await startAgent(options);
      assert.equal(agent.socket, `${short}/agent.sock`);
      assert.equal(await mode(short), 0o700);
      const login = await loginWith(provider, options, "--storage", "agent");
      assert.equal(login.code, 0, login.stderr);
      const token = await runCli(["token", "--hostname", provider.origin], options);
      assert.deepEqual([token.code, token.stdout], [0, `${provider.activeTokens()[0]}\n`]);
    }

    // A --socket that cannot fit either: one line, a usage error.
    const long = await runCli(
      ["agent", "start", "--socket", `${configDir}/agent/agent.sock`],
      options,
    );
    assert.equal(long.code, EXIT_CODES.usage);
    assert.match(
      errorLine(long.stderr),
      /^Error: The socket path .* is too long for the OS \(at most 103 bytes\): use a shorter --socket$/,
    );

    // Someone else's or an open directory in its place: one line, exit 8, its mode untouched.
    await Deno.remove(short, { recursive: true });
    await Deno.mkdir(short, { mode: 0o700 });
    await Deno.chmod(short, 0o755);
    const refused = await runCli(["agent", "start"], options);
    assert.equal(refused.code, EXIT_CODES.storage, refused.stderr);
    const line = errorLine(refused.stderr);
    assert.equal(
      line,
      `Error: The agent did not start: Refusing to use ${short} for the agent: other users may enter it (mode 0755): run chmod 700 ${short}, or use a --socket in a directory only you can enter`,
    );
    assert.equal(
      await mode(short),
      0o755,
      "loopauth changes no mode of a directory it did not make",
    );
    // The hint, run as printed, makes the agent start.
    const hint = /run (chmod 700 \S+),/.exec(line)![1];
    assert.equal((await shell(hint)).code, 0);
    await using agent = await startAgent(options);
    assert.equal(agent.socket, `${short}/agent.sock`);
  });
});
