/**
 * The two-step login (`login --no-wait`, then `login --resume ID`), through
 * the real CLI against the built-in provider, without a terminal: finished
 * through the URL, through the device code and through `--code`; an
 * expired one cleans up after itself.
 */
import assert from "node:assert/strict";
import { actAsUser, approveDeviceCode } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  childEnv,
  Cli,
  isListening,
  MAIN,
  providerLoginArgs,
  runCli,
  runFlags,
  runWithInput,
  secretEnv,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";

interface Started {
  id: string;
  url?: string;
  userCode?: string;
  verificationUri?: string;
  expiresAt: string;
}

/** What each `--no-wait` printed (stdout and stderr), by id. */
const printed = new Map<string, string>();

/** `login --no-wait --json` with the provider's client, plus `extra`. */
async function startTwoStep(
  provider: { origin: string; clientId: string; clientSecret: string },
  configHome: string,
  ...extra: string[]
): Promise<Started> {
  const out = await runCli(
    providerLoginArgs(provider as never, "--no-wait", "--json", "--no-browser", ...extra),
    { configHome, env: secretEnv(provider) },
  );
  assert.equal(out.code, 0, out.stderr);
  const started = JSON.parse(out.stdout) as Started;
  assert.match(started.id, /^[0-9a-f]{16}$/);
  printed.set(started.id, out.stdout + out.stderr);
  return started;
}

/** The waiter's state file of a login. */
function stateFile(configHome: string, id: string): string {
  return `${configHome}/loopauth/logins/${id}.json`;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** Whether the process `pid` still runs (signal 0 is not portable in Deno: ps is in the test flags). */
async function running(pid: number): Promise<boolean> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "pid=", "-p", String(pid)] })
    .output();
  return new TextDecoder().decode(stdout).trim() === String(pid);
}

Deno.test("--no-wait --json returns at once; --resume waits; finished through the URL", async () => {
  await withProvider(async (provider, configHome) => {
    const started = await startTwoStep(provider, configHome);
    assert.ok(started.url, "the browser URL is there");
    const url = new URL(started.url);
    assert.equal(url.origin, provider.origin, "url is the provider's authorization URL");
    assert.equal(url.pathname, "/login/oauth/authorize");
    assert.ok(started.userCode, "the dev provider offers the device flow: its code is there");
    assert.equal(started.verificationUri, `${provider.origin}/login/device`);
    assert.ok(Date.parse(started.expiresAt) > Date.now());
    const state = JSON.parse(await Deno.readTextFile(stateFile(configHome, started.id)));
    assert.equal((await Deno.stat(stateFile(configHome, started.id))).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${configHome}/loopauth/logins`)).mode! & 0o777, 0o700);
    assert.ok(await running(state.pid), "the waiter runs in the background");
    const callbackPort = Number(new URL(url.searchParams.get("redirect_uri")!).port);
    assert.ok(await isListening(callbackPort), "the waiter holds the callback port");

    const resume = new Cli(["login", "--resume", started.id, "--json"], { configHome });
    const page = await actAsUser(started.url);
    assert.equal(page.status, 200);
    const out = await resume.output();
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(out.stdout);
    assert.equal(result.login, "octocat");
    assert.equal(result.host, provider.origin);
    assert.equal(result.flow, "web");
    assert.equal(tokenRequests(provider, "authorization_code").length, 1);
    // What --no-wait printed holds neither the verifier nor the code.
    const exchange = new URLSearchParams(tokenRequests(provider, "authorization_code")[0].body);
    for (const secret of [exchange.get("code_verifier")!, exchange.get("code")!]) {
      assert.ok(secret && !printed.get(started.id)!.includes(secret));
    }
    // Logged in for real: token reads the stored token.
    const token = await runCli(["token", "--hostname", provider.origin], { configHome });
    assert.equal(token.code, 0, token.stderr);
    // The waiter leaves nothing behind.
    await waitUntil(async () => !(await running(state.pid)), { what: "the waiter to exit" });
    assert.equal(await exists(stateFile(configHome, started.id)), false);
    assert.equal(await isListening(callbackPort), false);
    assert.equal(await isListening(state.port), false);
  });
});

Deno.test("--no-wait then --resume: finished through the device code", async () => {
  await withProvider(async (provider, configHome) => {
    const started = await startTwoStep(provider, configHome);
    assert.match(started.userCode ?? "", /^[A-Z]{4}-[A-Z]{4}$/);
    const resume = new Cli(["login", "--resume", started.id], { configHome });
    assert.equal((await approveDeviceCode(provider.origin, started.userCode!)).status, 200);
    const out = await resume.output();
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.equal(tokenRequests(provider, "authorization_code").length, 0);
    // The waiter ends once the outcome is collected: its state file goes with it.
    await waitUntil(async () => !(await exists(stateFile(configHome, started.id))), {
      what: "the state file to go",
    });
  }, { autoApprove: false, deviceInterval: 0.2 });
});

Deno.test("--resume ID --code URL finishes by paste-back without a terminal", async () => {
  await withProvider(async (provider, configHome) => {
    const started = await startTwoStep(provider, configHome, "--web");
    assert.equal(started.userCode, undefined, "--web: no device code");
    // The browser on another machine: it ends at the callback address, which it cannot reach.
    const consent = await fetch(started.url!, { redirect: "manual" });
    await consent.body?.cancel();
    const callback = consent.headers.get("location")!;
    assert.match(callback, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
    // A wrong paste is refused in one line, and the login goes on.
    const wrong = new URL(callback);
    wrong.searchParams.set("state", "x".repeat(43));
    const refused = await runCli(["login", "--resume", started.id, "--code", wrong.href], {
      configHome,
    });
    assert.equal(refused.code, EXIT_CODES.usage, refused.stderr);
    assert.match(refused.stderr, /^Error: Not accepted: .*; the login still waits$/m);
    assert.equal(refused.stderr.trim().split("\n").length, 1);
    const out = await runCli(["login", "--resume", started.id, "--code", callback], {
      configHome,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.equal(tokenRequests(provider, "authorization_code").length, 1);
  });
});

Deno.test("--resume ID --code - reads the address from stdin (not in any argument)", async () => {
  await withProvider(async (provider, configHome) => {
    const started = await startTwoStep(provider, configHome, "--web");
    const consent = await fetch(started.url!, { redirect: "manual" });
    await consent.body?.cancel();
    const callback = consent.headers.get("location")!;
    const out = await runWithInput(
      Deno.execPath(),
      [
        "run",
        ...runFlags(`${configHome}/loopauth`),
        MAIN,
        "login",
        "--resume",
        started.id,
        "--code",
        "-",
      ],
      `${callback}\n`,
      { env: childEnv(configHome) },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged in to ${provider.origin} as octocat\n`);
  });
});

Deno.test("an expired two-step login: the waiter exits, its ports close, its state file goes", async () => {
  await withProvider(async (provider, configHome) => {
    const started = await startTwoStep(provider, configHome, "--timeout", "2s");
    const state = JSON.parse(await Deno.readTextFile(stateFile(configHome, started.id)));
    const callbackPort = Number(
      new URL(new URL(started.url!).searchParams.get("redirect_uri")!).port,
    );
    const out = await runCli(["login", "--resume", started.id], { configHome });
    assert.equal(out.code, EXIT_CODES.timeout, out.stderr);
    assert.match(out.stderr, /^Error: Timed out after 2s/m);
    await waitUntil(async () => !(await running(state.pid)), { what: "the waiter to exit" });
    assert.equal(await exists(stateFile(configHome, started.id)), false);
    assert.equal(await isListening(callbackPort), false);
    assert.equal(await isListening(state.port), false);
    // Nothing was stored, and a late resume says in one line that nothing waits.
    assert.equal(await exists(`${configHome}/loopauth/tokens.json`), false);
    const late = await runCli(["login", "--resume", started.id], { configHome });
    assert.equal(late.code, EXIT_CODES.usage);
    assert.match(late.stderr, new RegExp(`^Error: No login ${started.id} is waiting: `));
  }, { autoApprove: false });
});

Deno.test("--no-wait without --json: the id on stdout, the URL, the code and the resume command on stderr, which works as printed", async () => {
  await withProvider(async (provider, configHome) => {
    const out = await runCli(providerLoginArgs(provider, "--no-wait", "--no-browser"), {
      configHome,
      env: secretEnv(provider),
    });
    assert.equal(out.code, 0, out.stderr);
    const id = out.stdout.trim();
    assert.match(id, /^[0-9a-f]{16}$/);
    const url = /^Open this URL in a browser: (\S+)$/m.exec(out.stderr)![1];
    assert.equal(new URL(url).origin, provider.origin);
    assert.match(
      out.stderr,
      new RegExp(
        `^Or enter the code [A-Z]{4}-[A-Z]{4} at ${provider.origin}/login/device \\(only if you started this login\\)$`,
        "m",
      ),
    );
    const hint = new RegExp(`; then run: (loopauth login --resume ${id})$`, "m").exec(out.stderr);
    assert.ok(hint, out.stderr);
    const resume = new Cli(hint[1].split(" ").slice(1), { configHome });
    assert.equal((await actAsUser(url)).status, 200);
    const done = await resume.output();
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, `Logged in to ${provider.origin} as octocat\n`);
  });
});

Deno.test("--no-wait where the app has no device flow: only the URL, and the login still works", async () => {
  await withProvider(async (provider, configHome) => {
    const out = await runCli(providerLoginArgs(provider, "--no-wait", "--json", "--no-browser"), {
      configHome,
      env: secretEnv(provider),
    });
    assert.equal(out.code, 0, out.stderr);
    const started = JSON.parse(out.stdout);
    assert.deepEqual(Object.keys(started).sort(), ["expiresAt", "id", "url"]);
    const resume = new Cli(["login", "--resume", started.id], { configHome });
    assert.equal((await actAsUser(started.url)).status, 200);
    assert.equal((await resume.output()).code, 0);
  }, { deviceFlowDisabled: true });
});

Deno.test("a killed waiter: --resume says in one line that nothing waits (exit 2) and removes the stale state file", async () => {
  await withProvider(async (provider, configHome) => {
    const started = await startTwoStep(provider, configHome, "--web");
    const state = JSON.parse(await Deno.readTextFile(stateFile(configHome, started.id)));
    // Deno.kill needs --allow-run for all: bash is among the test's programs.
    await new Deno.Command("bash", { args: ["-c", 'kill -9 "$1"', "bash", String(state.pid)] })
      .output();
    await waitUntil(async () => !(await running(state.pid)), { what: "the waiter to die" });
    const out = await runCli(["login", "--resume", started.id], { configHome });
    assert.equal(out.code, EXIT_CODES.usage);
    assert.equal(
      out.stderr,
      `Error: No login ${started.id} is waiting: it ended or expired (see loopauth status), or it was started by another user or with another config directory`,
    );
    assert.equal(await exists(stateFile(configHome, started.id)), false);
    // An id that is no id is refused before any file is looked at.
    const bad = await runCli(["login", "--resume", "../tokens"], { configHome });
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.match(bad.stderr, /^Error: Invalid login ID "\.\.\/tokens": /);
  });
});

Deno.test("--no-wait fails as a login would before anything is shown: a port in use is exit 10, one line, no waiter or state file left, with one route or both", async () => {
  await withProvider(async (provider, configHome) => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = String((taken.addr as Deno.NetAddr).port);
      const out = await runCli(
        providerLoginArgs(provider, "--no-wait", "--json", "--no-browser", "--web", "--port", port),
        { configHome, env: secretEnv(provider) },
      );
      assert.equal(out.code, EXIT_CODES.port_in_use, out.stderr);
      assert.equal(out.stdout, "");
      assert.match(
        out.stderr,
        new RegExp(`^Error: Port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
      assert.equal(out.stderr.trim().split("\n").length, 1);
      const left = await Array.fromAsync(Deno.readDir(`${configHome}/loopauth/logins`))
        .catch(() => []);
      assert.deepEqual(left, [], "no state file");
      // With both routes too, as a login (the port was asked for: no route can do without it).
      const both = await runCli(
        providerLoginArgs(provider, "--no-wait", "--json", "--no-browser", "--port", port),
        { configHome, env: secretEnv(provider) },
      );
      assert.equal(both.code, EXIT_CODES.port_in_use, both.stderr);
      assert.equal(both.stdout, "");
      const still = await Array.fromAsync(Deno.readDir(`${configHome}/loopauth/logins`))
        .catch(() => []);
      assert.deepEqual(still, [], "no state file");
    } finally {
      taken.close();
    }
  });
});

Deno.test("--no-wait carries --prompt, --login-hint and --param to the waiter's authorization request; an owned --param is refused before any waiter starts", async () => {
  await withProvider(async (provider, configHome) => {
    const refused = await runCli(
      providerLoginArgs(provider, "--no-wait", "--json", "--no-browser", "--param", "state=x"),
      { configHome, env: secretEnv(provider) },
    );
    assert.equal(refused.code, 2);
    assert.equal(refused.stdout, "");
    assert.match(refused.stderr, /^Error: Refused --param /);
    assert.equal(await exists(`${configHome}/loopauth/logins`), false, "no waiter started");

    const started = await startTwoStep(
      provider,
      configHome,
      "--web",
      "--prompt",
      "login",
      "--login-hint",
      "octocat",
      "--param",
      "audience=api",
    );
    const url = new URL(started.url!);
    assert.equal(url.searchParams.get("prompt"), "login");
    assert.equal(url.searchParams.get("login"), "octocat");
    assert.equal(url.searchParams.get("audience"), "api");
    const resume = new Cli(["login", "--resume", started.id], { configHome });
    assert.equal((await actAsUser(started.url!)).status, 200);
    const out = await resume.output();
    assert.equal(out.code, 0, out.stderr);
  });
});
