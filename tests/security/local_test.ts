/**
 * The attack suite, threat 1 of 9: other local users and processes. Every
 * process on this machine can connect to the callback port while a login
 * waits (nothing off the machine can: only 127.0.0.1 listens); a process
 * can be killed at any moment of a write (kill -9, the OOM killer, a power
 * loss); and what a run prints, shows or leaves in files can be read by
 * whoever sees the terminal, a CI log or a backup. See
 * tests/security_test.ts.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  actAsUser,
  type DevProvider,
  type RecordedRequest,
  startDevProvider,
} from "../../lib/dev/provider.ts";
import { serveCallback } from "../../lib/flows/callback_server.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  Cli,
  grantType,
  isListening,
  loginArgs,
  loginOnce,
  loginWith,
  rawRequest,
  runCli,
  runFlags,
  secretEnv,
  storedSecrets,
  tempConfig,
  tokenRequests,
  withProvider,
} from "../helpers.ts";
import { runHostileScenario } from "../hostile.ts";
import { assertStillWaiting, exists, get, STATE } from "../security_helpers.ts";

const FILE = ["--storage", "file"];
const env = { LOOPAUTH_STORAGE: "file" };

// The callback port: reachable from every local process, from nothing else.

Deno.test("attack: another machine, or a process on ::1, tries the callback port → only 127.0.0.1 listens, on a port from the OS", async () => {
  const server = serveCallback({ state: STATE });
  assert.match(server.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  assert.ok(server.port > 0);
  assert.equal(await isListening(server.port), true);
  await assert.rejects(() => Deno.connect({ hostname: "::1", port: server.port }));
  const response = await get(`${server.redirectUri}?state=${STATE}&code=abc`);
  await response.body?.cancel();
  assert.equal((await server.result).code, "abc");
});

Deno.test("attack: requests for other paths (/, /callbackx, /favicon.ico) → 404, the wait goes on", async () => {
  const server = serveCallback({ state: STATE, timeout: 10_000 });
  const base = `http://127.0.0.1:${server.port}`;
  const cases: [string, number][] = [
    [`${base}/callbackx?state=${STATE}&code=abc`, 404],
    [`${base}/?state=${STATE}&code=abc`, 404],
    [`${base}/favicon.ico`, 404],
  ];
  for (const [url, status] of cases) {
    const response = await get(url);
    await response.body?.cancel();
    assert.equal(response.status, status, url.slice(0, 80));
  }
  await assertStillWaiting(server);
});

Deno.test("attack: a request target over 8 KiB (a 9,000-character code) → 414, the wait goes on", async () => {
  const server = serveCallback({ state: STATE, timeout: 10_000 });
  const response = await get(`${server.redirectUri}?state=${STATE}&code=${"a".repeat(9000)}`);
  await response.body?.cancel();
  assert.equal(response.status, 414);
  await assertStillWaiting(server);
});

Deno.test("attack: a second valid callback while the first is being redeemed (a race for the login) → 409, the first wins", async () => {
  // The first callback is held inside onCallback until the second has been answered.
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => entered = resolve);
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const server = serveCallback({
    state: STATE,
    onCallback: async () => {
      entered();
      await held;
      return 1;
    },
  });
  const first = get(`${server.redirectUri}?state=${STATE}&code=1`);
  await inside;
  const second = await get(`${server.redirectUri}?state=${STATE}&code=2`);
  await second.body?.cancel();
  assert.equal(second.status, 409);
  release();
  await (await first).body?.cancel();
  assert.equal(await server.result, 1);
});

Deno.test("attack: forged callbacks at a waiting loopauth login (no state, a forged one, a 10,000-character one, /, Host attacker.example) → 400/414/404/400, the login still completes", async () => {
  await withProvider(async (provider, configHome) => {
    const cli = new Cli(loginArgs(provider), { configHome, env: secretEnv(provider) });
    const url = await cli.authorizationUrl();
    const redirect = new URL(new URL(url).searchParams.get("redirect_uri")!);
    const port = Number(redirect.port);
    const bogus: [string, number][] = [
      [`${redirect.href}?code=x`, 400],
      [`${redirect.href}?code=x&state=forged`, 400],
      [`${redirect.href}?state=${"a".repeat(10_000)}`, 414],
      [`http://127.0.0.1:${port}/`, 404],
    ];
    for (const [target, status] of bogus) {
      const response = await fetch(target);
      await response.body?.cancel();
      assert.equal(response.status, status);
    }
    const state = new URL(url).searchParams.get("state");
    const rebinding =
      `GET /callback?code=x&state=${state} HTTP/1.1\r\nHost: attacker.example\r\n\r\n`;
    assert.equal(await rawRequest(port, rebinding), 400);
    assert.equal(await isListening(port), true, "still waiting");
    const page = await actAsUser(url);
    assert.equal(page.status, 200);
    const { code, stderr } = await cli.output();
    assert.equal(code, 0, stderr);
  });
});

Deno.test("attack: 2,000 bogus requests from 50 clients, with idle and half-open connections held open (slowloris), while a login waits → quick 4xx only, flat memory, the login completes", async () => {
  const figures = await runHostileScenario({ requests: 2000, concurrency: 50 });
  const answered = Object.entries(figures.statuses).reduce((sum, [, n]) => sum + n, 0);
  assert.equal(answered, 2000);
  for (const status of Object.keys(figures.statuses)) {
    assert.ok(Number(status) >= 400 && Number(status) < 500, `only 4xx answers, got ${status}`);
  }
  assert.ok(
    figures.maxMs < 2000,
    `every bad request answered quickly (worst ${figures.maxMs.toFixed(0)} ms)`,
  );
  assert.equal(figures.loginPageStatus, 200, "the real callback still works");
  assert.equal(figures.loginExitCode, 0, "the real login completes");
  assert.ok(
    figures.exitAfterCallbackMs < 1500,
    `idle and half-open connections do not hold the exit (${
      figures.exitAfterCallbackMs.toFixed(0)
    } ms)`,
  );
  // Flat memory: the last three quarters of the barrage add little to what the first quarter used.
  const growthKiB = figures.rssAfterKiB - figures.rssQuarterKiB;
  assert.ok(growthKiB < 16 * 1024, `RSS grew ${growthKiB} KiB after the first quarter`);
  console.log(JSON.stringify(figures));
});

// Killed mid-write: kill -9 at any moment leaves a session that still works, or says it ended.

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`${path} is not whole JSON after a kill: ${error}`);
  }
}

/** The invariant; returns the logins the config names for the host. */
async function assertConsistent(dir: string, host: string): Promise<string[]> {
  const config = await readJson(`${dir}/config.json`) as
    | { hosts: Record<string, { accounts: Record<string, unknown> }> }
    | undefined;
  const tokens = await readJson(`${dir}/tokens.json`) as
    | { hosts: Record<string, Record<string, { accessToken?: string }>> }
    | undefined;
  const logins = Object.keys(config?.hosts?.[host]?.accounts ?? {});
  for (const login of logins) {
    const secret = tokens?.hosts?.[host]?.[login];
    assert.ok(secret?.accessToken, `config names ${login} but its token is missing`);
  }
  return logins;
}

Deno.test({
  name:
    "attack: kill -9 at random points of login and logout → the old state or the new: both files whole, no account without its token",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const provider = startDevProvider({ autoApprove: true });
    await using config = await tempConfig();
    const seen = new Set<string>();
    try {
      for (let i = 0; i < 12; i++) {
        // Login, killed somewhere between the user's approval and the exit.
        const cli = new Cli(loginArgs(provider), {
          configHome: config.home,
          env: secretEnv(provider, env),
        });
        const url = await cli.authorizationUrl();
        const approving = actAsUser(url).catch(() => undefined);
        await new Promise((r) => setTimeout(r, Math.random() * 25));
        try {
          cli.child.kill("SIGKILL");
        } catch { /* already exited */ }
        await approving;
        await cli.output();
        const after = await assertConsistent(config.dir, provider.origin);
        seen.add(after.length ? "logged in" : "not logged in");
        // Logout, killed at a random point.
        if (after.length) {
          const out = new Cli(["logout", "--hostname", provider.origin], {
            configHome: config.home,
            env,
          });
          await new Promise((r) => setTimeout(r, Math.random() * 40));
          try {
            out.child.kill("SIGKILL");
          } catch { /* already exited */ }
          await out.output();
          await assertConsistent(config.dir, provider.origin);
        }
        // Whatever state is left, the CLI reads it cleanly.
        const token = await runCli(["token", "--hostname", provider.origin], {
          configHome: config.home,
          env,
        });
        assert.ok(
          token.code === 0 || token.code === 3,
          `token exit ${token.code}: ${token.stderr}`,
        );
      }
    } finally {
      await provider.close();
    }
    console.log(`states seen after kills: ${[...seen].join(", ")}`);
  },
});

/** The pair a `grant_type=refresh_token` request gets from the built-in provider. */
async function spendRefreshToken(provider: DevProvider, refreshToken: string) {
  const response = await fetch(`${provider.origin}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
    }),
  });
  const pair = await response.json();
  assert.match(pair.refresh_token, /^ghr_/);
  return pair as { access_token: string; refresh_token: string; expires_in: number };
}

const TEMP = /\.[0-9a-f-]{36}\.tmp$/;

async function tempFiles(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).filter((n) => TEMP.test(n));
}

Deno.test({
  name:
    "attack: kill -9 after the refreshed pair's temp file was written → the next run recovers it, stale temp files go",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      assert.equal((await loginOnce(provider, configHome, ...FILE)).code, 0);
      const path = `${dir}/tokens.json`;
      const before = JSON.parse(await Deno.readTextFile(path));
      const old = before.hosts[provider.origin].octocat;
      // What a `token` killed between its temp file's fsync and the rename leaves: the
      // provider rotated the pair, tokens.json still holds the spent one, the temp file the
      // new one. (The random kill test below meets this state for real.)
      provider.expiringTokens = { accessTtl: 3600, refreshTtl: 3600 };
      const pair = await spendRefreshToken(provider, old.refreshToken);
      const after = structuredClone(before);
      after.hosts[provider.origin].octocat = {
        ...old,
        accessToken: pair.access_token,
        refreshToken: pair.refresh_token,
        expiresAt: new Date(Date.now() + pair.expires_in * 1000).toISOString(),
      };
      const text = `${JSON.stringify(after, null, 2)}\n`;
      const temp = (name: string) => `${dir}/${name}.${crypto.randomUUID()}.tmp`;
      // Stale ones: a temp file cut short, an older complete one, a config temp file.
      const cut = temp("tokens.json");
      await Deno.writeTextFile(cut, text.slice(0, text.length / 2), { mode: 0o600 });
      const older = temp("tokens.json");
      const bogus = structuredClone(before);
      bogus.hosts[provider.origin].octocat.accessToken = "ghu_older_than_tokens_json";
      await Deno.writeTextFile(older, JSON.stringify(bogus), { mode: 0o600 });
      const hourAgo = new Date(Date.now() - 3600_000);
      await Deno.utime(older, hourAgo, hourAgo);
      await Deno.writeTextFile(temp("config.json"), await Deno.readTextFile(`${dir}/config.json`), {
        mode: 0o600,
      });
      await Deno.writeTextFile(temp("tokens.json"), text, { mode: 0o600 });

      const refreshes = tokenRequests(provider, "refresh_token").length;
      const out = await runCli(["token", "--hostname", provider.origin], { configHome });
      assert.equal(out.code, 0, `the session survived the kill: ${out.stderr}`);
      assert.equal(out.stdout, `${pair.access_token}\n`, "the recovered token");
      assert.equal(tokenRequests(provider, "refresh_token").length, refreshes, "no new refresh");
      const stored = await storedSecrets(configHome, provider.origin);
      assert.equal(stored.refreshToken, pair.refresh_token);
      assert.deepEqual(provider.activeRefreshTokens(), [pair.refresh_token]);
      assert.deepEqual(await tempFiles(dir), [], "no temp file left behind");
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    }, { expiringTokens: { accessTtl: 30, refreshTtl: 3600 } });
  },
});

/** Every file of `dir` (temp files included) and its text. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) files.set(entry.name, await Deno.readTextFile(`${dir}/${entry.name}`));
  }
  return files;
}

/** The files of a snapshot that are whole JSON and contain `needle`. */
function wholeFilesWith(files: Map<string, string>, needle: string): string[] {
  return [...files].filter(([, text]) => {
    try {
      JSON.parse(text);
    } catch {
      return false; // cut short by the kill
    }
    return text.includes(needle);
  }).map(([name]) => name);
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];

Deno.test({
  name:
    "attack: kill -9 at random points of a refresh (60 runs) → every lost session fell between the server taking the request and the new pair reaching a temp file",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      const host = ["--hostname", provider.origin];
      const login = async () =>
        assert.equal((await loginOnce(provider, configHome, ...FILE)).code, 0);
      await login();
      const isRefresh = (r: RecordedRequest) =>
        r.path === "/login/oauth/access_token" && grantType(r) === "refresh_token";
      // The provider records each request before it answers: a hook on that record
      // lets a kill land at once or a moment after the provider took the request.
      let onRequest: ((request: RecordedRequest) => void) | undefined;
      const requests: RecordedRequest[] = [];
      requests.push = (...items) => {
        const length = Array.prototype.push.apply(requests, items);
        for (const item of items) onRequest?.(item);
        return length;
      };
      provider.requests = requests;
      // And one on the temp files of tokens.json: created (empty), then written.
      let onTempFile: ((kind: string) => void) | undefined;
      const watcher = Deno.watchFs(dir, { recursive: false });
      const watching = (async () => {
        for await (const event of watcher) {
          if (event.paths.some((p) => /tokens\.json\.[0-9a-f-]{36}\.tmp$/.test(p))) {
            onTempFile?.(event.kind);
          }
        }
      })();

      // Unkilled runs first: how long from spawn to the refresh, and from it to the exit.
      const toRequest: number[] = [];
      const toExit: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        let at = 0;
        onRequest = (r) => isRefresh(r) && (at = r.time);
        const out = await runCli(["token", ...host], { configHome });
        assert.equal(out.code, 0, out.stderr);
        assert.ok(at > 0, "every token run refreshes");
        toRequest.push(at - start);
        toExit.push(performance.now() - at);
      }
      onRequest = undefined;

      const RUNS = 60;
      const tally = {
        runs: 0,
        exitedBeforeTheKill: 0,
        killedBeforeTheRequest: 0,
        killedAfterTheRequest: 0,
        orphanedTempRecovered: 0,
        lost: 0,
        lostInTheWindow: 0,
      };
      const unexplained: string[] = [];
      const lossDelays: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        tally.runs++;
        const storedBefore = (await storedSecrets(configHome, provider.origin)).refreshToken!;
        const activeBefore = new Set(provider.activeRefreshTokens()); // older sessions' too
        const seen = requests.length;
        let killedAt: number | undefined;
        const cli = new Cli(["token", ...host], { configHome });
        const kill = () => {
          if (killedAt !== undefined) return;
          killedAt = performance.now();
          try {
            cli.child.kill("SIGKILL");
          } catch {
            killedAt = undefined; // it had exited
          }
        };
        const later = (ms: number) => ms < 0.5 ? kill() : timers.push(setTimeout(kill, ms));
        const timers: ReturnType<typeof setTimeout>[] = [];
        // Three kinds of moment: anywhere before the refresh request (start-up, lock, reads),
        // anywhere from the provider taking it to the exit, and around the temp file's write.
        const kind = run % 3;
        if (kind === 0) later(Math.random() * median(toRequest));
        if (kind === 1) onRequest = (r) => isRefresh(r) && later(Math.random() * median(toExit));
        if (kind === 2) {
          const on = Math.random() < 0.3 ? "create" : "modify";
          onTempFile = (eventKind) => eventKind === on && later(Math.random() * 2);
        }
        const out = await cli.output();
        timers.forEach(clearTimeout);
        onRequest = undefined;
        onTempFile = undefined;
        const killed = out.code === 137;
        const refresh = requests.slice(seen).find(isRefresh);
        if (!killed) {
          tally.exitedBeforeTheKill++;
          assert.equal(out.code, 0, `run ${run} exited by itself: ${out.stderr}`);
        } else if (refresh && refresh.time <= killedAt!) tally.killedAfterTheRequest++;
        else tally.killedBeforeTheRequest++;

        // What the kill left on disk, then whether the next run still has a session.
        const files = await snapshot(dir);
        // The new pair only in a whole temp file: tokens.json still holds the spent one.
        const orphan = wholeFilesWith(files, "").some((name) =>
          /^tokens\.json\..*\.tmp$/.test(name) && !files.get(name)!.includes(storedBefore)
        ) && files.get("tokens.json")!.includes(storedBefore);
        const checkedAt = performance.now();
        const check = await runCli(["token", ...host], { configHome });
        if (check.code === 0) {
          if (orphan) {
            tally.orphanedTempRecovered++;
          }
          continue;
        }
        assert.equal(check.code, EXIT_CODES.session_expired, `run ${run}: ${check.stderr}`);
        tally.lost++;
        // A loss is in the window only if the provider took the killed run's refresh request
        // (it spent the old token and issued the one now active) and no whole file on disk
        // holds the issued token: the kill came before a temp file with it was complete.
        const killedRefresh = requests.slice(seen).find((r) =>
          isRefresh(r) && r.time < checkedAt
        );
        const active = provider.activeRefreshTokens();
        const issued = active.filter((token) => !activeBefore.has(token));
        const rotated = killedRefresh !== undefined && issued.length === 1 &&
          !active.includes(storedBefore);
        const holders = rotated ? wholeFilesWith(files, issued[0]) : [];
        if (rotated && holders.length === 0) {
          tally.lostInTheWindow++;
          if (killedAt !== undefined) lossDelays.push(killedAt - killedRefresh.time);
        } else {
          unexplained.push(
            `run ${run} (kind ${kind}): ${
              rotated
                ? `the issued refresh token was on disk in ${holders.join(", ")}`
                : "the provider had not rotated the pair"
            }`,
          );
        }
        await login();
      }
      watcher.close();
      await watching;
      const ms = (values: number[]) =>
        values.length
          ? `${Math.min(...values).toFixed(1)}…${Math.max(...values).toFixed(1)} ms`
          : "none";
      console.log(
        `${JSON.stringify(tally)}; kills of lost sessions came ${
          ms(lossDelays)
        } after the provider took the request (spawn→refresh ${
          median(toRequest).toFixed(0)
        } ms, refresh→exit ${median(toExit).toFixed(0)} ms)`,
      );
      assert.deepEqual(unexplained, [], "every lost session fell in the window");
      assert.equal(tally.lost, tally.lostInTheWindow);
    }, { expiringTokens: { accessTtl: 30, refreshTtl: 3600 } });
  },
});

// What a run shows and leaves: the terminal, a CI log, the browser, the files.

async function filesUnder(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) Object.assign(files, await filesUnder(path));
    else if (entry.isFile) files[path] = await Deno.readTextFile(path);
  }
  return files;
}

Deno.test("attack: searching everything a full run prints, shows and leaves for a code, state, verifier or token → no code, state, verifier or refresh token anywhere; the access token only in token's output and the token store", async () => {
  const provider = startDevProvider({
    autoApprove: true,
    expiringTokens: { accessTtl: 28_800, refreshTtl: 15_897_600 },
  });
  await using config = await tempConfig();
  try {
    const { url, page, ...login } = await loginWith(provider, { configHome: config.home, env });
    assert.equal(login.code, 0, login.stderr);
    const exchange = provider.requests.find((r) => r.path === "/login/oauth/access_token")!;
    const sent = new URLSearchParams(exchange.body);
    const code = sent.get("code")!;
    const verifier = sent.get("code_verifier")!;
    const state = new URL(url).searchParams.get("state")!;
    const [refreshToken] = provider.activeRefreshTokens();
    const [accessToken] = provider.activeTokens();
    assert.ok(refreshToken && accessToken);

    const token = await runCli(["token", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    const api = await runCli(["api", "/user", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    const status = await runCli(["status", "--hostname", provider.origin, "--json"], {
      configHome: config.home,
      env,
    });
    const files = await filesUnder(config.dir);
    const out = await runCli(["logout", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    assert.equal(out.code, 0, out.stderr);

    const shown: Record<string, string> = {
      "login stdout": login.stdout,
      "login stderr (but the URL line)": login.stderr.split("\n").filter((l) => l !== url).join(
        "\n",
      ),
      "success page": page.body,
      "token stderr": token.stderr,
      "api stdout": api.stdout,
      "api stderr": api.stderr,
      "status stdout": status.stdout,
      "status stderr": status.stderr,
      "logout stdout": out.stdout,
      "logout stderr": out.stderr,
    };
    for (const [path, text] of Object.entries(files)) {
      if (!path.endsWith("/tokens.json")) shown[path] = text; // the token store holds the tokens
    }
    for (const [where, text] of Object.entries(shown)) {
      for (
        const [name, secret] of Object.entries({ code, verifier, state, refreshToken, accessToken })
      ) {
        assert.ok(!text.includes(secret), `${name} appears in ${where}`);
      }
    }
    assert.equal(token.stdout, `${accessToken}\n`, "the access token only where asked for");
    assert.ok(
      Object.keys(files).some((p) => p.endsWith("/tokens.json")),
      "a token store was written",
    );
  } finally {
    await provider.close();
  }
});

// A machine without a free port (second review).

/** Preloaded into the CLI: listening on port 0 fails as when every ephemeral port is taken. */
const NO_FREE_PORT = fileURLToPath(new URL("../fixtures/no_free_port.ts", import.meta.url));
const NO_PORT_LINE =
  "Error: No free port on 127.0.0.1: other programs hold every port the OS hands out; close some, or choose a free one with --port";

Deno.test("attack: local processes hold every ephemeral port → login and dev-server say so in one line (no port named), exit 10; --port with a free port, as the line says, logs in", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const options = { configHome, flags: [...runFlags(configDir), "--preload", NO_FREE_PORT] };
    const login = await runCli(loginArgs(provider), { ...options, env: secretEnv(provider) });
    assert.equal(login.code, EXIT_CODES.port_in_use, login.stderr);
    assert.equal(login.stderr, NO_PORT_LINE);
    assert.equal(await exists(`${configDir}/tokens.json`), false, "nothing stored");
    const server = await runCli(["dev-server"], options);
    assert.equal(server.code, EXIT_CODES.port_in_use, server.stderr);
    assert.equal(server.stderr, NO_PORT_LINE);
    // The way out the line names: a port of one's own choosing.
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = free.addr.port;
    free.close();
    const fixed = await loginWith(provider, options, "--port", String(port));
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.url, new RegExp(`redirect_uri=http%3A%2F%2F127\\.0\\.0\\.1%3A${port}%2F`));
  });
});
