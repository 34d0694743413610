/**
 * The attack suite, threat 7 of 9: other local users who read every process's
 * arguments (`/proc/PID/cmdline`, `ps`) and every world-readable file, and
 * try to finish the user's login with their own account (login CSRF from
 * the same machine), or read tokens from a child's environment, or reach a
 * two-step login's state file or waiter (`login --no-wait`). See
 * tests/security_test.ts and docs/security.md ("Other users of this
 * computer").
 */
import assert from "node:assert/strict";
import { actAsUser, approveDeviceCode, type DevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  Cli,
  type CliOptions,
  providerLoginArgs,
  runCli,
  secretEnv,
  TEST_TMP_DIR,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";
import { exists, storedFiles } from "../security_helpers.ts";

const UNIX = Deno.build.os !== "windows"; // the stand-in browser is a sh script
const FILE = { LOOPAUTH_STORAGE: "file" };
/** Secrets in loopauth's environment that no child may get. */
const SECRET_ENV = {
  GH_TOKEN: "ghp_secretFromGhToken1",
  GITHUB_TOKEN: "ghp_secretFromGithubToken2",
  LOOPAUTH_TOKEN: "ghp_secretFromLoopauthToken3",
  GH_ENTERPRISE_TOKEN: "ghp_secretFromEnterpriseToken4",
  GITHUB_ENTERPRISE_TOKEN: "ghp_secretFromEnterpriseToken5",
};

/** Runs bash with `script`; stdout (its arguments hold no secret). */
async function bash(script: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "bash", ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** Every visible process's arguments (what any local user can read), one line each. */
function everyCmdline(): Promise<string> {
  return bash(`for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f" 2>/dev/null; echo; done`);
}

/**
 * A stand-in browser: writes its arguments (then `--env--` and its
 * environment) to a 0600 file, then stays open (as a browser does) until
 * `release` exists, 20 s at most.
 */
async function recordingBrowser(dir: string) {
  const record = `${dir}/browser-record`;
  const release = `${dir}/browser-release`;
  const script = `${dir}/browser.sh`;
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\numask 077\n{ printf '%s\\n' "$@"; echo --env--; env; } > "${record}.tmp"\n` +
      `mv "${record}.tmp" "${record}"\n` +
      `i=0; while [ ! -e "${release}" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n`,
    { mode: 0o700 },
  );
  await Deno.chmod(script, 0o700);
  return {
    script,
    /** What the browser was given: its arguments and its environment. */
    async recorded(): Promise<{ args: string[]; env: string }> {
      await waitUntil(() => exists(record), { what: "the browser to start" });
      assert.equal((await Deno.stat(record)).mode! & 0o777, 0o600);
      const [args, env] = (await Deno.readTextFile(record)).split("--env--\n");
      return { args: args.split("\n").filter(Boolean), env };
    },
    release: () => Deno.writeTextFile(release, "", { mode: 0o600 }),
  };
}

/** Whether this machine can run a process as uid 65534 (as root with util-linux). */
async function canBeNobody(): Promise<boolean> {
  const probe = await new Deno.Command("setpriv", {
    args: ["--reuid=65534", "--regid=65534", "--clear-groups", "true"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  if (!probe.success) {
    console.log("skipped: cannot run a process as uid 65534 with setpriv (run as root)");
  }
  return probe.success;
}

/**
 * Another user (uid 65534, through socat) sends `GET target` to
 * 127.0.0.1:`port`, from `bind` (an address and source port) when given;
 * the HTTP status it got, or 0 with `closeAtOnce` (it sends and closes
 * without waiting for the answer).
 */
async function asOtherUser(
  port: number,
  target: string,
  { bind, closeAtOnce = false }: { bind?: string; closeAtOnce?: boolean } = {},
): Promise<number> {
  const child = new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "socat",
      // -u: send, then close at once; else keep the connection open (no half-close, as a
      // browser does) until the server has answered and closed it.
      ...(closeAtOnce ? ["-u", "-"] : ["STDIO,ignoreeof"]),
      `TCP:127.0.0.1:${port}${bind ? `,bind=${bind},reuseaddr` : ""}`,
    ],
    cwd: "/",
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    ),
  );
  await writer.close();
  const out = await child.output();
  const answer = new TextDecoder().decode(out.stdout);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
  if (closeAtOnce) return 0;
  assert.ok(status, `no HTTP answer: ${answer} ${new TextDecoder().decode(out.stderr)}`);
  return Number(status);
}

/** A code for the attacker's own account, for this login's redirect URI and state. */
async function attackerCallback(provider: DevProvider, authorizationUrl: string): Promise<URL> {
  const user = provider.user;
  provider.user = { login: "mallory", id: 666, name: "Mallory" };
  try {
    const response = await fetch(authorizationUrl, { redirect: "manual" });
    await response.body?.cancel();
    assert.equal(response.status, 302);
    return new URL(response.headers.get("location")!);
  } finally {
    provider.user = user;
  }
}

/** A browser login whose opener is the recording browser, with secrets in its environment. */
function browserLogin(provider: DevProvider, configHome: string, browser: string) {
  const options: CliOptions = {
    configHome,
    env: {
      ...FILE,
      ...SECRET_ENV,
      BROWSER: browser,
      LOOPAUTH_CLIENT_SECRET: provider.clientSecret,
    },
  };
  const args = ["login", "--hostname", provider.origin, "--client-id", provider.clientId, "--web"];
  return new Cli(args, options);
}

Deno.test({
  name:
    "attack: another local user reads the browser opener's arguments → a one-time start URL: no state, no PKCE challenge in any process's arguments",
  ignore: !UNIX,
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const browser = await recordingBrowser(configHome);
      const cli = browserLogin(provider, configHome, browser.script);
      const url = new URL(await cli.authorizationUrl());
      const state = url.searchParams.get("state")!;
      const challenge = url.searchParams.get("code_challenge")!;
      const { args } = await browser.recorded();
      // What every local user can read while the browser is open: no process's arguments hold them.
      const cmdlines = await everyCmdline();
      assert.ok(cmdlines.includes(browser.script), "the scan sees the browser");
      assert.ok(!cmdlines.includes(state), "no process's arguments hold the state");
      assert.ok(!cmdlines.includes(challenge), "no process's arguments hold the PKCE challenge");
      assert.equal(args.length, 1);
      assert.match(args[0], /^http:\/\/127\.0\.0\.1:\d+\/start\/[0-9a-f]{32}$/);
      assert.equal(new URL(args[0]).port, new URL(url.searchParams.get("redirect_uri")!).port);
      // The start URL is the user's way in: following it logs in.
      const page = await actAsUser(args[0]);
      assert.equal(page.status, 200);
      await browser.release();
      const { code, stdout, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
      assert.match(stdout, /as octocat/);
      // The terminal still shows the provider's whole URL (for a browser on another machine).
      assert.ok(stderr.includes(url.href));
    }, { autoApprove: false });
  },
});

Deno.test({
  name:
    "attack: the browser (or anything it starts) reads loopauth's environment → no token or client secret in it",
  ignore: !UNIX,
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const browser = await recordingBrowser(configHome);
      const cli = browserLogin(provider, configHome, browser.script);
      await cli.authorizationUrl();
      const { args, env } = await browser.recorded();
      for (const [name, value] of Object.entries(SECRET_ENV)) {
        assert.ok(!env.includes(value), `${name} reached the browser`);
      }
      assert.ok(!env.includes(provider.clientSecret), "the client secret reached the browser");
      assert.match(env, /^PATH=/m, "the browser still gets PATH");
      assert.match(env, /^BROWSER=/m);
      await actAsUser(args[0]);
      await browser.release();
      assert.equal((await cli.output()).code, 0);
    });
  },
});

Deno.test({
  name:
    "attack: another local user opens the start URL first → 403, the link still works for the user",
  ignore: !UNIX,
  fn: async () => {
    if (!await canBeNobody()) return;
    await withProvider(async (provider, configHome) => {
      const browser = await recordingBrowser(configHome);
      const cli = browserLogin(provider, configHome, browser.script);
      await cli.authorizationUrl();
      const start = new URL((await browser.recorded()).args[0]);
      assert.equal(await asOtherUser(Number(start.port), start.pathname), 403);
      assert.equal(await asOtherUser(Number(start.port), start.pathname), 403);
      const page = await actAsUser(start.href);
      assert.equal(page.status, 200);
      await browser.release();
      const { code, stdout } = await cli.output();
      assert.equal(code, 0);
      assert.match(stdout, /as octocat/);
    });
  },
});

Deno.test({
  name:
    "attack: another local user delivers the callback with the stolen state and their own code → 403, the user's own account is stored",
  ignore: !UNIX,
  fn: async () => {
    if (!await canBeNobody()) return;
    await withProvider(async (provider, configHome) => {
      const cli = new Cli(
        [...providerLoginArgs(provider, "--no-browser", "--web", "--scopes", "read:user")],
        { configHome, env: secretEnv(provider, FILE) },
      );
      const url = await cli.authorizationUrl();
      // The attacker authorizes this very request (state, challenge, redirect URI) as mallory,
      // with a grant of its own choosing, and delivers the callback before the user clicks.
      provider.scopesGranted = ["delete_repo", "admin:org"];
      const forged = await attackerCallback(provider, url);
      provider.scopesGranted = undefined;
      assert.ok(forged.searchParams.get("code"), "the attacker has a code of their own");
      assert.equal(
        await asOtherUser(Number(forged.port), `${forged.pathname}${forged.search}`),
        403,
      );
      // The wait goes on: the user's own login completes.
      assert.equal((await actAsUser(url)).status, 200);
      const { code, stdout } = await cli.output();
      assert.equal(code, 0);
      assert.match(stdout, /as octocat/);
      const redeemed = tokenRequests(provider);
      assert.equal(redeemed.length, 1);
      assert.notEqual(
        new URLSearchParams(redeemed[0].body).get("code"),
        forged.searchParams.get("code"),
        "the attacker's code was never redeemed",
      );
      const file = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/tokens.json`));
      assert.deepEqual(Object.keys(file.hosts[provider.origin]), ["octocat"]);
    });
  },
});

Deno.test({
  name:
    "attack: another local user sends error=access_denied with the stolen state → 403, the login goes on",
  ignore: !UNIX,
  fn: async () => {
    if (!await canBeNobody()) return;
    await withProvider(async (provider, configHome) => {
      const cli = new Cli([...providerLoginArgs(provider, "--no-browser", "--web")], {
        configHome,
        env: secretEnv(provider, FILE),
      });
      const url = new URL(await cli.authorizationUrl());
      const callback = new URL(url.searchParams.get("redirect_uri")!);
      const state = url.searchParams.get("state")!;
      const target = `${callback.pathname}?error=access_denied&state=${state}`;
      assert.equal(await asOtherUser(Number(callback.port), target), 403);
      assert.equal((await actAsUser(url.href)).status, 200);
      const { code, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
    });
  },
});

Deno.test({
  name:
    "attack: someone opens the start URL before the user's browser → the second visit ends the login (exit 4, one line, nothing stored) and its page says so",
  ignore: !UNIX,
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const browser = await recordingBrowser(configHome);
      const cli = browserLogin(provider, configHome, browser.script);
      await cli.authorizationUrl();
      const start = (await browser.recorded()).args[0];
      const first = await fetch(start, { redirect: "manual" });
      await first.body?.cancel();
      assert.equal(first.status, 302);
      assert.equal(first.headers.get("cache-control"), "no-store");
      assert.equal(first.headers.get("referrer-policy"), "no-referrer");
      assert.match(first.headers.get("content-security-policy")!, /default-src 'none'/);
      assert.match(first.headers.get("location")!, /\/login\/oauth\/authorize\?/);
      const second = await fetch(start, { redirect: "manual" });
      assert.equal(second.status, 410);
      assert.match(await second.text(), /Login link already used/);
      await browser.release();
      const { code, stderr } = await cli.output();
      assert.equal(code, EXIT_CODES.access_denied);
      assert.equal(
        stderr.split("\n").filter((line) => line.startsWith("Error: ")).join("\n"),
        "Error: The browser link of this login was opened twice, so another program may have had it: nothing was stored, run the command again",
      );
      assert.deepEqual(
        (await storedFiles(`${configHome}/loopauth`)).filter((f) => f === "tokens.json"),
        [],
      );
      assert.equal(tokenRequests(provider).length, 0);
    }, { autoApprove: false });
  },
});

Deno.test({
  name:
    "attack: another local user reads the device route's browser arguments → the bare device page, never the user code",
  ignore: !UNIX,
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const browser = await recordingBrowser(configHome);
      const cli = new Cli(
        ["login", "--hostname", provider.origin, "--client-id", provider.clientId, "--device"],
        { configHome, env: { ...FILE, ...SECRET_ENV, BROWSER: browser.script } },
      );
      const line = await cli.waitForLine(/^First copy your one-time code: /);
      const userCode = /code: (\S+)/.exec(line)![1];
      const { args, env } = await browser.recorded();
      assert.deepEqual(args, [`${provider.origin}/login/device`]);
      assert.ok(!(await everyCmdline()).includes(userCode), "no process's arguments hold the code");
      for (const value of Object.values(SECRET_ENV)) assert.ok(!env.includes(value));
      assert.equal((await approveDeviceCode(provider.origin, userCode)).status, 200);
      await browser.release();
      assert.equal((await cli.output()).code, 0);
    }, { verificationUriComplete: true });
  },
});

Deno.test({
  name:
    "attack: a forged error=access_denied ends the browser route of a race → the device route goes on and logs in",
  ignore: !UNIX,
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      // No display and no $BROWSER: the device flow and the browser flow race.
      const cli = new Cli(
        ["login", "--hostname", provider.origin, "--client-id", provider.clientId],
        { configHome, env: { ...FILE, LOOPAUTH_CLIENT_SECRET: provider.clientSecret } },
      );
      const line = await cli.waitForLine(/^First copy your one-time code: /);
      const userCode = /code: (\S+)/.exec(line)![1];
      const url = new URL(await cli.authorizationUrl());
      // Where /proc/net/tcp cannot tell who sends it (macOS), the forged answer is taken.
      const callback = new URL(url.searchParams.get("redirect_uri")!);
      callback.searchParams.set("error", "access_denied");
      callback.searchParams.set("state", url.searchParams.get("state")!);
      const page = await fetch(callback);
      await page.body?.cancel();
      assert.equal(page.status, 200);
      await cli.waitForLine(/the browser flow stopped \(access was denied in the browser/);
      assert.equal((await approveDeviceCode(provider.origin, userCode)).status, 200);
      const { code, stdout, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
      assert.match(stdout, /as octocat/);
    });
  },
});

Deno.test({
  name:
    "attack: another process reads the 12-hour agent's environment (/proc/PID/environ) → no token or client secret there",
  ignore: !UNIX,
  fn: async () => {
    await withProvider(async (_provider, configHome) => {
      const options: CliOptions = {
        configHome,
        env: { ...SECRET_ENV, LOOPAUTH_CLIENT_SECRET: "secret-of-the-client-6" },
      };
      const out = await runCli(["agent", "start", "--json"], options);
      assert.equal(out.code, 0, out.stderr);
      const { pid, socket } = JSON.parse(out.stdout);
      try {
        const environ = await bash(`tr '\\0' '\\n' < /proc/"$1"/environ`, String(pid));
        assert.match(environ, /^PATH=/m, "the agent's environment was read");
        for (const value of [...Object.values(SECRET_ENV), "secret-of-the-client-6"]) {
          assert.ok(!environ.includes(value), `the agent holds ${value}`);
        }
      } finally {
        const stop = await runCli(["agent", "stop", "--socket", socket], options);
        assert.equal(stop.code, 0, stop.stderr);
      }
    });
  },
});

Deno.test({
  name:
    "attack: another local user sends the callback and closes at once, or reuses a TIME_WAIT port from 127.0.0.2 (sockets Linux lists as uid 0) → refused, said on the terminal, the attacker's code never redeemed",
  ignore: !UNIX,
  fn: async () => {
    if (!await canBeNobody()) return;
    await withProvider(async (provider, configHome) => {
      const cli = new Cli([...providerLoginArgs(provider, "--no-browser", "--web")], {
        configHome,
        env: secretEnv(provider, FILE),
      });
      const url = await cli.authorizationUrl();
      const forged = await attackerCallback(provider, url);
      const port = Number(forged.port);
      const target = `${forged.pathname}${forged.search}`;
      // Sent, then closed before loopauth can look it up: a closing socket has no owner. (The
      // server may answer it or drop it unread; either way its code must never be redeemed.)
      assert.equal(await asOtherUser(port, target, { closeAtOnce: true }), 0);
      // A port number of a TIME_WAIT line (listed as uid 0), reused from another loopback address.
      const sourcePort = 20_000 + Math.floor(Math.random() * 20_000);
      // (sent and closed at once: only the TIME_WAIT line it leaves matters, not an answer)
      await asOtherUser(port, "/favicon.ico", {
        bind: `127.0.0.1:${sourcePort}`,
        closeAtOnce: true,
      });
      assert.equal(await asOtherUser(port, target, { bind: `127.0.0.2:${sourcePort}` }), 403);
      await cli.waitForLine(
        /^Warning: A request for this login came from another user's connection .* was refused$/,
      );
      // The wait goes on: the user's own login completes, and only its code was redeemed.
      assert.equal((await actAsUser(url)).status, 200);
      const { code, stdout, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
      assert.match(stdout, /as octocat/);
      const redeemed = tokenRequests(provider);
      assert.equal(redeemed.length, 1);
      assert.notEqual(
        new URLSearchParams(redeemed[0].body).get("code"),
        forged.searchParams.get("code"),
      );
    });
  },
});

Deno.test("attack: another local user reads a two-step login's state file or asks its waiter, even with the key → Permission denied, no answer, the login stays the user's", async () => {
  const asNobody = (...args: string[]) =>
    new Deno.Command("setpriv", {
      args: ["--reuid=65534", "--regid=65534", "--clear-groups", ...args],
      stdin: args[0] === "socat" && args[1] === "STDIO,ignoreeof" ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    });
  const probe = await asNobody("true").output().catch((error) => ({
    success: false,
    stderr: new TextEncoder().encode(`${error}`),
  }));
  if (Deno.build.os !== "linux" || !probe.success) {
    console.log(
      `skipped: cannot run a process as uid 65534 with setpriv (${
        new TextDecoder().decode(probe.stderr).trim()
      }): run the tests as root on Linux with util-linux`,
    );
    return;
  }
  await withProvider(async (provider, configHome) => {
    const start = await runCli(
      providerLoginArgs(provider, "--no-wait", "--json", "--no-browser", "--web"),
      { configHome, env: secretEnv(provider, SECRET_ENV) },
    );
    assert.equal(start.code, 0, start.stderr);
    const { id, url } = JSON.parse(start.stdout);
    const statePath = `${configHome}/loopauth/logins/${id}.json`;
    const state = JSON.parse(await Deno.readTextFile(statePath));
    // The waiter's arguments and environment hold no secret of the login, nor the client secret.
    const seen = await bash(
      `tr '\\0' '\\n' < /proc/$1/cmdline; tr '\\0' '\\n' < /proc/$1/environ`,
      String(state.pid),
    );
    assert.match(seen, /--waiter/, "the waiter's own arguments were read");
    assert.doesNotMatch(seen, /--allow-all|^-A$/m, "the waiter gets no blanket permissions");
    for (
      const secret of [
        provider.clientSecret,
        new URL(url).searchParams.get("state")!,
        ...Object.values(SECRET_ENV),
      ]
    ) {
      assert.ok(!seen.includes(secret), "no secret in the waiter's arguments or environment");
    }
    // The channel works for the user: a wrong key is refused with an answer.
    // (ignoreeof: no half-close after the request, as loopauth's own client does not either)
    const own = new Deno.Command("socat", {
      args: ["STDIO,ignoreeof", `TCP:127.0.0.1:${state.port}`],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const ownWriter = own.stdin.getWriter();
    await ownWriter.write(
      new TextEncoder().encode(`${JSON.stringify({ v: 1, key: "0".repeat(64), op: "wait" })}\n`),
    );
    await ownWriter.close();
    const ownOut = await own.output();
    assert.deepEqual(JSON.parse(new TextDecoder().decode(ownOut.stdout)), {
      ok: false,
      error: "forbidden",
    });
    // Every directory above loopauth's own is opened to others (and closed again), so that
    // what refuses nobody below is loopauth's own modes, not the test's private root.
    const above = [TEST_TMP_DIR, configHome, `${configHome}/loopauth`];
    const modes = await Promise.all(above.map(async (d) => (await Deno.stat(d)).mode! & 0o777));
    try {
      for (const dir of above) await Deno.chmod(dir, 0o711);
      const read = await asNobody("socat", "-u", `OPEN:${statePath}`, "-").output();
      assert.equal(read.success, false, "nobody cannot read the state file");
      assert.match(new TextDecoder().decode(read.stderr), /Permission denied/);
      // Even a leaked key gets nothing: the waiter refuses another user's socket.
      for (const key of ["0".repeat(64), state.key]) {
        const child = asNobody("socat", "STDIO,ignoreeof", `TCP:127.0.0.1:${state.port}`).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(
          new TextEncoder().encode(`${JSON.stringify({ v: 1, key, op: "wait" })}\n`),
        ).catch(() => {});
        await writer.close().catch(() => {});
        const out = await child.output();
        assert.equal(new TextDecoder().decode(out.stdout), "", "no answer to another user");
      }
    } finally {
      for (const [i, dir] of above.entries()) await Deno.chmod(dir, modes[i]);
    }
    // The login is untouched: the user finishes and resumes it.
    const resume = new Cli(["login", "--resume", id], { configHome });
    assert.equal((await actAsUser(url)).status, 200);
    const out = await resume.output();
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged in to ${provider.origin} as octocat\n`);
  });
});

Deno.test("attack: another local user listens on a dead waiter's control port → --resume tells it neither the key nor the code (exit 8, one line)", async () => {
  const probe = await new Deno.Command("setpriv", {
    args: ["--reuid=65534", "--regid=65534", "--clear-groups", "true"],
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: new TextEncoder().encode(`${error}`) }));
  if (Deno.build.os !== "linux" || !probe.success) {
    console.log("skipped: cannot run a process as uid 65534 with setpriv on Linux");
    return;
  }
  await withProvider(async (provider, configHome) => {
    const start = await runCli(
      providerLoginArgs(provider, "--no-wait", "--json", "--no-browser", "--web"),
      { configHome, env: secretEnv(provider) },
    );
    assert.equal(start.code, 0, start.stderr);
    const { id, url } = JSON.parse(start.stdout);
    const state = JSON.parse(
      await Deno.readTextFile(`${configHome}/loopauth/logins/${id}.json`),
    );
    await bash(
      'kill -9 "$1"; while kill -0 "$1" 2>/dev/null; do sleep 0.05; done',
      String(state.pid),
    );
    // The attacker takes the port and records whatever comes.
    const listener = new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "socat",
        "-u",
        `TCP-LISTEN:${state.port},bind=127.0.0.1,reuseaddr,fork`,
        "-",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const heard = new Response(listener.stdout).text();
    try {
      await waitUntil(async () => {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port: state.port })).close();
          return true;
        } catch {
          return false;
        }
      }, { what: "the attacker to listen" });
      const consent = await fetch(url, { redirect: "manual" });
      await consent.body?.cancel();
      const callback = consent.headers.get("location")!;
      const out = await runCli(["login", "--resume", id, "--code", callback], { configHome });
      assert.equal(out.code, EXIT_CODES.storage, out.stderr);
      assert.equal(
        out.stderr.trim(),
        `Error: Refusing to resume login ${id}: port ${state.port} on 127.0.0.1 is held by another user's process, not its waiter`,
      );
    } finally {
      listener.kill();
      await listener.status;
    }
    const received = await heard;
    assert.ok(!received.includes(state.key), "the key never reached the attacker");
    assert.ok(!received.includes("code"), "no request reached the attacker");
  });
});
