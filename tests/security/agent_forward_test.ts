/**
 * The attack suite, threat 6 of 9: a forwarded agent. With `ssh -R` the
 * remote host reaches the local agent's socket, and whoever there can read
 * the copied key (the remote's root, malware in the remote account) can
 * speak the agent's protocol. `loopauth agent forward` gives the remote a
 * key of its own that only reads the access tokens of the hosts named; the
 * local agent logs each use. The remote here is a second config home whose
 * agent socket is a `socat` relay (mode 0600, in a 0700 directory) to the
 * agent, as sshd makes it. See tests/security_test.ts.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import type { DevProvider } from "../../lib/dev/provider.ts";
import { encodeMessage, itemName } from "../../lib/store/agent_protocol.ts";
import {
  Cli,
  filesContaining,
  loginWith,
  runCli,
  startAgent,
  tempConfig,
  type TestAgent,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";
import { exists } from "../security_helpers.ts";

/** The remote side: its config home, its relayed socket and the key copied beside it. */
interface Remote extends AsyncDisposable {
  configHome: string;
  socket: string;
  key: string;
}

/**
 * Logs in locally (agent storage), forwards `hosts` with `agent forward`,
 * and sets up "the remote" as the printed recipe says: the key and the
 * config copied into its config directory, its agent socket a relay.
 */
async function forwardTo(
  provider: DevProvider,
  configHome: string,
  agent: TestAgent,
  ...forwardArgs: string[]
): Promise<Remote & { forwarded: Record<string, unknown> }> {
  const login = await loginWith(provider, { configHome }, "--storage", "agent");
  assert.equal(login.code, 0, login.stderr);
  const forward = await runCli(
    ["agent", "forward", "--json", "--host", provider.origin, ...forwardArgs],
    { configHome },
  );
  assert.equal(forward.code, 0, forward.stderr);
  const forwarded = JSON.parse(forward.stdout);
  assert.equal((await Deno.lstat(forwarded.keyPath)).mode! & 0o777, 0o600);
  assert.equal((await Deno.lstat(forwarded.configPath)).mode! & 0o777, 0o600);
  const remote = await tempConfig();
  const dir = `${remote.dir}/agent`;
  await Deno.mkdir(remote.dir, { mode: 0o700 });
  await Deno.mkdir(dir, { mode: 0o700 });
  for (
    const [from, to] of [[forwarded.keyPath, `${dir}/agent.sock.key`], [
      forwarded.configPath,
      `${remote.dir}/config.json`,
    ]]
  ) {
    await Deno.copyFile(from, to);
    await Deno.chmod(to, 0o600);
  }
  const socket = `${dir}/agent.sock`;
  const relay = new Deno.Command("socat", {
    args: [`UNIX-LISTEN:${socket},fork,mode=600`, `UNIX-CONNECT:${agent.socket}`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitUntil(() => exists(socket), { what: "the relay to listen" });
  return {
    configHome: remote.home,
    socket,
    key: (await Deno.readTextFile(`${dir}/agent.sock.key`)).trim(),
    forwarded,
    [Symbol.asyncDispose]: async () => {
      try {
        relay.kill();
      } catch { /* ended */ }
      await relay.status;
      await remote[Symbol.asyncDispose]();
    },
  };
}

/**
 * Speaks the agent's protocol as an attacker holding `key` would, with
 * `socat` (any program can): one request, its answer.
 */
async function ask(
  socket: string,
  key: string,
  request: Record<string, unknown>,
): Promise<{ answer: Record<string, unknown> | undefined; raw: string }> {
  const child = new Deno.Command("socat", {
    args: ["-", `UNIX-CONNECT:${socket}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encodeMessage({ v: 1, key, ...request }));
  await writer.close();
  const out = await child.output();
  const raw = new TextDecoder().decode(out.stdout);
  const line = raw.split("\n")[0];
  return { answer: line ? JSON.parse(line) : undefined, raw };
}

/** The one line of a failed run. */
function errorLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0];
}

/** The agent's log of forwarded-key uses, as its own key sees it in `agent status --json`. */
async function uses(configHome: string): Promise<Record<string, unknown>[]> {
  const status = await runCli(["agent", "status", "--json"], { configHome });
  assert.equal(status.code, 0, status.stderr);
  return JSON.parse(status.stdout).uses ?? [];
}

const expiring = { expiringTokens: { accessTtl: 3600, refreshTtl: 7200 } };

Deno.test("attack: a remote holder of the forwarded key asks for another host's token or an unlocked store key → refused, nothing returned", async () => {
  await withProvider(async (provider, configHome) => {
    await using agent = await startAgent({ configHome });
    await using remote = await forwardTo(provider, configHome, agent);
    const own = (await Deno.readTextFile(`${agent.socket}.key`)).trim();
    // The local agent also holds another host's account and an encrypted store's key.
    const other = itemName("secrets", "ghe.example.com", "octocat");
    const storeKey = itemName("key", "0123456789abcdef");
    assert.equal(
      (await ask(agent.socket, own, {
        op: "set",
        item: other,
        value: { accessToken: "gho_OTHERHOST" },
      })).answer?.ok,
      true,
    );
    assert.equal(
      (await ask(agent.socket, own, { op: "set", item: storeKey, value: "STOREKEY" })).answer?.ok,
      true,
    );
    for (const item of [other, storeKey, "garbage"]) {
      const { answer, raw } = await ask(remote.socket, remote.key, { op: "get", item });
      assert.deepEqual(answer, { ok: false, error: "not forwarded" });
      assert.ok(!raw.includes("OTHERHOST") && !raw.includes("STOREKEY"));
    }
    // Through the CLI on the remote: the forwarded config knows no other host.
    const cli = await runCli(["token", "--hostname", "ghe.example.com"], remote);
    assert.equal(cli.code, EXIT_CODES.not_logged_in, cli.stderr);
    assert.ok(!cli.stdout.includes("gho_OTHERHOST"));
  });
});

Deno.test("attack: a remote holder of the forwarded key asks for the refresh token / client secret → never returned, only the access token", async () => {
  await withProvider(async (provider, configHome) => {
    await using agent = await startAgent({ configHome });
    await using remote = await forwardTo(provider, configHome, agent);
    const own = (await Deno.readTextFile(`${agent.socket}.key`)).trim();
    const item = itemName("secrets", provider.origin, "octocat");
    const local = (await ask(agent.socket, own, { op: "get", item })).answer?.value as Record<
      string,
      string
    >;
    assert.ok(local.refreshToken && local.clientSecret, "the agent holds both");
    const { answer, raw } = await ask(remote.socket, remote.key, { op: "get", item });
    assert.deepEqual(answer, {
      ok: true,
      value: { accessToken: local.accessToken, expiresAt: local.expiresAt },
    });
    assert.ok(!raw.includes(local.refreshToken) && !raw.includes(local.clientSecret));
    // Nor on the remote's disk.
    for (const secret of [local.refreshToken, local.clientSecret]) {
      assert.deepEqual(await filesContaining(remote.configHome, secret), []);
    }
  }, expiring);
});

Deno.test("attack: a remote holder of the forwarded key sets a planted token, deletes, logs out, stops or mints a key → refused (read-only), the local token is unchanged", async () => {
  await withProvider(async (provider, configHome) => {
    await using agent = await startAgent({ configHome });
    await using remote = await forwardTo(provider, configHome, agent);
    const [token] = provider.activeTokens();
    const item = itemName("secrets", provider.origin, "octocat");
    for (
      const request of [
        { op: "set", item, value: { accessToken: "gho_PLANTED" } },
        { op: "delete", item },
        { op: "stop" },
        { op: "forward", hosts: [provider.origin, "github.com"] },
      ]
    ) {
      assert.deepEqual((await ask(remote.socket, remote.key, request)).answer, {
        ok: false,
        error: "read-only",
      });
    }
    const logout = await runCli(["logout", "--hostname", provider.origin], remote);
    assert.equal(logout.code, EXIT_CODES.storage);
    assert.equal(
      errorLine(logout.stderr),
      `Error: The key in ${remote.socket}.key is a forwarded, read-only key: log in, refresh and log out on the machine the agent runs on`,
    );
    // GitHub's revocation needs the client secret, which the forwarded key never returns.
    assert.ok(provider.activeTokens().includes(token), "the remote logout revoked nothing");
    const local = await runCli(["token", "--hostname", provider.origin], { configHome });
    assert.deepEqual([local.code, local.stdout], [0, `${token}\n`], local.stderr);
    // A login on the remote is refused before the browser opens (no consent spent).
    const before = provider.requests.length;
    const login = await runCli(
      [
        "login",
        "--hostname",
        provider.origin,
        "--client-id",
        provider.clientId,
        "--storage",
        "agent",
        "--no-browser",
      ],
      remote,
    );
    assert.equal(login.code, EXIT_CODES.storage);
    assert.equal(
      errorLine(login.stderr),
      `Error: The key of the agent at ${remote.socket} is a forwarded, read-only key: log in on the machine the agent runs on, or use another --storage`,
    );
    assert.deepEqual(provider.requests.slice(before), [], "the remote login reached no server");
  });
});

Deno.test("attack: a remote holder of the forwarded key uses it → every use is logged by the local agent", async () => {
  await withProvider(async (provider, configHome) => {
    // In the foreground (as under systemd), so that its stderr, the log, can be read.
    const foreground = new Cli(["agent", "start", "--foreground", "--json"], { configHome });
    const started = await foreground.waitForLine(/^Agent started at /);
    await using agent: TestAgent = {
      socket: started.match(/^Agent started at (\S+) /)![1],
      pid: Number(started.match(/\(pid (\d+)\)/)![1]),
      [Symbol.asyncDispose]: async () => {
        await runCli(["agent", "stop"], { configHome });
        await foreground.output();
      },
    };
    await using remote = await forwardTo(provider, configHome, agent);
    assert.deepEqual(await uses(configHome), []);
    const item = itemName("secrets", provider.origin, "octocat");
    await ask(remote.socket, remote.key, { op: "get", item });
    await ask(remote.socket, remote.key, { op: "set", item, value: { accessToken: "gho_X" } });
    await ask(remote.socket, remote.key, {
      op: "get",
      item: itemName("secrets", "github.com", "octocat"),
    });
    const token = await runCli(["token", "--hostname", provider.origin], remote);
    assert.equal(token.code, 0, token.stderr);
    const log = await uses(configHome);
    assert.deepEqual(log.map(({ time: _, ...use }) => use), [
      { id: 1, op: "get", item: `octocat on ${provider.origin}`, outcome: "allowed" },
      { id: 1, op: "set", item: `octocat on ${provider.origin}`, outcome: "read-only" },
      { id: 1, op: "get", item: "octocat on github.com", outcome: "not forwarded" },
      { id: 1, op: "get", item: `octocat on ${provider.origin}`, outcome: "allowed" },
    ]);
    for (const use of log) {
      const { time, id, op, item, outcome } = use as Record<string, string>;
      const line = `${time} forwarded key ${id}: ${op} ${item}: ${
        outcome === "allowed" ? "allowed" : `refused (${outcome})`
      }`;
      await foreground.waitForLine(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    }
    const text = await runCli(["agent", "status"], { configHome });
    assert.match(
      text.stdout,
      new RegExp(
        `^\\S+Z forwarded key 1: set octocat on ${
          provider.origin.replaceAll(".", "\\.")
        }: refused \\(read-only\\)$`,
        "m",
      ),
    );
  });
});

Deno.test("attack: a remote holder of the forwarded key waits for the access token to need a refresh → refused in one line pointing to the local machine; an expired forward key → refused", async () => {
  await withProvider(async (provider, configHome) => {
    await using agent = await startAgent({ configHome });
    await using remote = await forwardTo(provider, configHome, agent, "--ttl", "1h");
    const token = await runCli(["token", "--hostname", provider.origin], remote);
    assert.equal(token.code, EXIT_CODES.storage);
    assert.equal(
      errorLine(token.stderr),
      `Error: The token of octocat on ${provider.origin} in the agent at ${remote.socket} expires within a minute and a forwarded key cannot refresh it: run loopauth token --hostname ${provider.origin} >/dev/null on the machine the agent runs on, then try again`,
    );
    assert.deepEqual(tokenRequests(provider, "refresh_token"), [], "nothing was refreshed");
  }, { expiringTokens: { accessTtl: 30, refreshTtl: 3600 } });
  await withProvider(async (provider, configHome) => {
    await using agent = await startAgent({ configHome });
    await using remote = await forwardTo(provider, configHome, agent, "--ttl", "1s");
    await waitUntil(
      async () =>
        (await ask(remote.socket, remote.key, { op: "status" })).answer?.error ===
          "forward expired",
      { what: "the forwarded key to expire" },
    );
    const token = await runCli(["token", "--hostname", provider.origin], remote);
    assert.equal(token.code, EXIT_CODES.storage);
    assert.equal(
      errorLine(token.stderr),
      `Error: The forwarded key in ${remote.socket}.key has expired: run loopauth agent forward again on the machine the agent runs on and copy its files here`,
    );
  });
});

Deno.test("attack: a remote holder of the forwarded key is the user, as the recipe intends → the remote token prints the access token through the relay; no file there holds a refresh token or the agent's own key", async () => {
  await withProvider(async (provider, configHome) => {
    await using agent = await startAgent({ configHome });
    await using remote = await forwardTo(provider, configHome, agent);
    const [token] = provider.activeTokens();
    const viaRelay = await runCli(["token", "--hostname", provider.origin], remote);
    assert.deepEqual([viaRelay.code, viaRelay.stdout], [0, `${token}\n`], viaRelay.stderr);
    const api = await runCli(["api", "/user", "--hostname", provider.origin], remote);
    assert.equal(api.code, 0, api.stderr);
    assert.equal(JSON.parse(api.stdout).login, "octocat");
    const status = await runCli(["agent", "status"], remote);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(
        `^Agent at ${remote.socket}: running \\(pid ${agent.pid}\\), reached with a forwarded key until \\S+Z: read-only, the access tokens of ${provider.origin} \\(1 account\\)\\n$`,
      ),
    );
    const own = (await Deno.readTextFile(`${agent.socket}.key`)).trim();
    assert.notEqual(remote.key, own);
    assert.deepEqual(await filesContaining(remote.configHome, own), []);
    assert.deepEqual(await filesContaining(remote.configHome, token), []);
    assert.deepEqual(await filesContaining(remote.configHome, provider.clientSecret), []);
  });
});
