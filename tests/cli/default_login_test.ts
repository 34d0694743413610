/**
 * The default `login` (no --web, no --device) as users meet it: in this
 * container (CI is one), in an SSH-like session and on a desktop-like
 * machine. Where a local browser is not certain, every route runs at once
 * and the first to finish wins; on a desktop the browser flow runs alone.
 */
import assert from "node:assert/strict";
import {
  actAsUser,
  approveDeviceCode,
  type DevProvider,
  type DevProviderOptions,
} from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  Cli,
  isListening,
  providerLoginArgs,
  runFlags,
  secretEnv,
  tempConfig,
  withProvider,
} from "../helpers.ts";

/** Only what a user types: host, client id and secret. */
const defaultLogin = providerLoginArgs;

const CHOSEN_HERE =
  /^Logging in with the device flow and the browser flow: (this is a container without a display|there is no display \(DISPLAY and WAYLAND_DISPLAY are unset\) and no \$BROWSER); every route runs and the first to finish wins$/;

function withManualProvider<T>(
  fn: (provider: DevProvider, configHome: string) => Promise<T>,
  options: DevProviderOptions = {},
) {
  return withProvider(fn, { autoApprove: false, deviceInterval: 0.2, ...options });
}

async function userCode(cli: Cli): Promise<string> {
  return /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(await cli.waitForLine(/one-time code: /))![1];
}

function callbackPort(url: string): number {
  return Number(new URL(new URL(url).searchParams.get("redirect_uri")!).port);
}

async function rememberedFlow(configHome: string, origin: string): Promise<string> {
  const flows = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/flows.json`));
  return flows.hosts[origin].flow;
}

Deno.test("default login here: every route runs, the URL line is printed, the browser completes it", async () => {
  await withManualProvider(async (provider, configHome) => {
    const cli = new Cli(defaultLogin(provider), { configHome, env: secretEnv(provider) });
    await cli.waitForLine(CHOSEN_HERE);
    const code = await userCode(cli);
    const url = await cli.authorizationUrl();
    // The URL alone on its own line, after the device code (shown first by default).
    const lines = cli.stderrLines;
    assert.ok(lines.includes(url), "the URL is a line of its own");
    assert.ok(
      lines.findIndex((l) => l.includes(code)) < lines.indexOf(url),
      "the device code comes first",
    );
    assert.ok(lines.some((l) => /^Enter the code only if you started this login yourself/.test(l)));
    const port = callbackPort(url);
    assert.equal(await isListening(port), true);
    const page = await actAsUser(url);
    assert.equal(page.status, 200);
    const { code: exit, stdout, stderr } = await cli.output();
    assert.equal(exit, 0, stderr);
    assert.equal(stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.match(stderr, /^Waiting for the browser or the code \(times out in \d+:\d\d; /m);
    assert.equal(await isListening(port), false);
    assert.equal(await rememberedFlow(configHome, provider.origin), "web");
    // The device code was never approved: the device route lost and stopped.
    assert.equal(provider.activeTokens().length, 1);
  });
});

Deno.test("default login here: the device code completes it and the callback port closes", async () => {
  await withManualProvider(async (provider, configHome) => {
    const cli = new Cli(defaultLogin(provider), { configHome, env: secretEnv(provider) });
    await cli.waitForLine(CHOSEN_HERE);
    const code = await userCode(cli);
    const port = callbackPort(await cli.authorizationUrl());
    assert.equal(await isListening(port), true);
    await approveDeviceCode(provider.origin, code);
    const { code: exit, stderr } = await cli.output();
    assert.equal(exit, 0, stderr);
    assert.equal(await isListening(port), false);
    assert.equal(await rememberedFlow(configHome, provider.origin), "device");
  });
});

Deno.test("default login here after a browser login: the browser route is shown first, none is removed", async () => {
  await withManualProvider(async (provider, configHome) => {
    const first = new Cli(defaultLogin(provider), { configHome, env: secretEnv(provider) });
    await actAsUser(await first.authorizationUrl());
    assert.equal((await first.output()).code, 0);
    const devicesBefore = provider.requests.filter((r) => r.path === "/login/device/code").length;

    const again = new Cli(defaultLogin(provider), { configHome, env: secretEnv(provider) });
    await again.waitForLine(
      /^Logging in with the browser flow and the device flow: .*; every route runs and the first to finish wins$/,
    );
    const url = await again.authorizationUrl();
    const code = await userCode(again);
    const lines = again.stderrLines;
    assert.ok(lines.indexOf(url) < lines.findIndex((l) => l.includes(code)), "the URL comes first");
    await approveDeviceCode(provider.origin, code);
    assert.equal((await again.output()).code, 0);
    assert.equal(
      provider.requests.filter((r) => r.path === "/login/device/code").length,
      devicesBefore + 1,
    );
  });
});

Deno.test("--no-browser opens nothing but still prints the URL, in every login but --device", async () => {
  await withManualProvider(async (provider, configHome) => {
    const cli = new Cli(defaultLogin(provider, "--no-browser"), {
      configHome,
      env: secretEnv(provider),
    });
    const url = await cli.authorizationUrl();
    await actAsUser(url);
    const { code, stderr } = await cli.output();
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /Opened your browser|could not open a browser/);
    const device = await new Cli(defaultLogin(provider, "--device", "--timeout", "1s"), {
      configHome,
    }).output();
    assert.equal(device.code, EXIT_CODES.timeout);
    assert.doesNotMatch(device.stderr, /\/login\/oauth\/authorize\?/);
  }, { autoApprove: true });
});

Deno.test("the countdown shows the earlier of --timeout and the code's expiry", async () => {
  // [device code lifetime, flags, the most seconds shown, the fewest]
  const cases: [number, string[], number, number][] = [
    [900, ["--timeout", "20s"], 20, 15],
    [900, ["--device", "--timeout", "20s"], 20, 15],
    [12, ["--device", "--timeout", "20s"], 12, 5],
    // Both routes: the browser route still waits when the code has expired.
    [12, ["--timeout", "20s"], 20, 15],
  ];
  for (const [deviceExpiresIn, flags, most, fewest] of cases) {
    await withManualProvider(async (provider, configHome) => {
      const cli = new Cli(defaultLogin(provider, ...flags), {
        configHome,
        env: secretEnv(provider),
      });
      const line = await cli.waitForLine(/^Waiting for .* \(times out in \d+:\d\d; /);
      const [, m, s] = /times out in (\d+):(\d\d)/.exec(line)!;
      const shown = Number(m) * 60 + Number(s);
      assert.ok(shown <= most && shown >= fewest, `${deviceExpiresIn} s code, ${flags}: ${line}`);
      cli.child.kill("SIGINT");
      await cli.output();
    }, { deviceExpiresIn });
  }
});

Deno.test("a device endpoint that fails leaves the browser route waiting, and says so", async () => {
  // The device endpoint answers 502: the login goes on with the URL.
  const provider = await import("../../lib/dev/provider.ts").then((m) =>
    m.startDevProvider({ autoApprove: true })
  );
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/login/device/code") return new Response("bad gateway", { status: 502 });
    return fetch(new URL(url.pathname + url.search, provider.origin), {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
    });
  });
  try {
    await using config = await tempConfig();
    const origin = `http://127.0.0.1:${proxy.addr.port}`;
    const cli = new Cli(
      [
        "login",
        "--hostname",
        origin,
        "--client-id",
        provider.clientId,
      ],
      { configHome: config.home, flags: runFlags(config.dir), env: secretEnv(provider) },
    );
    await cli.waitForLine(/^Logging in with the browser flow: the device flow stopped \(/);
    const url = await cli.authorizationUrl();
    const redirect = await fetch(url, { redirect: "manual" });
    await redirect.body?.cancel();
    const callback = await fetch(redirect.headers.get("location")!);
    await callback.body?.cancel();
    const { code, stderr } = await cli.output();
    assert.equal(code, 0, stderr);
    assert.match(stderr, /^Waiting for the browser \(times out in /m);
  } finally {
    await proxy.shutdown();
    await provider.close();
  }
});

Deno.test({
  name: "desktop-like (a display and $BROWSER): the browser flow alone, opened through $BROWSER",
  ignore: Deno.build.os === "windows", // the stand-in browser is a sh script
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const seen = `${configHome}/seen-url`;
      const browser = `${configHome}/browser.sh`;
      await Deno.writeTextFile(browser, `#!/bin/sh\nprintf '%s' "$1" > "${seen}"\n`, {
        mode: 0o755,
      });
      const cli = new Cli(defaultLogin(provider), {
        configHome,
        env: secretEnv(provider, { DISPLAY: ":99", BROWSER: browser }),
      });
      await cli.waitForLine(/^Logging in with the browser flow: \$BROWSER is set$/);
      const url = await cli.authorizationUrl();
      await cli.waitForLine(/^Opened your browser/);
      // The browser gets the one-time start URL on the callback port, not the printed URL.
      const start = await Deno.readTextFile(seen);
      const port = new URL(new URL(url).searchParams.get("redirect_uri")!).port;
      assert.match(start, new RegExp(`^http://127\\.0\\.0\\.1:${port}/start/[0-9a-f]{32}$`));
      await actAsUser(start);
      const { code, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
      assert.match(stderr, /^Waiting for the browser \(times out in /m);
      assert.equal(provider.requests.filter((r) => r.path === "/login/device/code").length, 0);
    });
  },
});

Deno.test("a device page off the host's origin gets a warning", async () => {
  // A host whose device endpoint names a page elsewhere (the code is never approved).
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    const body = path === "/login/device/code"
      ? {
        device_code: "d",
        user_code: "ABCD-EFGH",
        verification_uri: "http://127.0.0.2:9/login/device",
        expires_in: 900,
        interval: 1,
      }
      : { error: "authorization_pending" };
    return Response.json(body);
  });
  try {
    await using config = await tempConfig();
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const { code, stderr } = await new Cli(
      ["login", "--hostname", origin, "--client-id", "c", "--device", "--timeout", "1s"],
      { configHome: config.home, flags: runFlags(config.dir) },
    ).output();
    assert.equal(code, EXIT_CODES.timeout);
    assert.match(
      stderr,
      new RegExp(
        `^Warning: the device page http://127\\.0\\.0\\.2:9 is not on ${origin}: enter the code only if you trust that page$`,
        "m",
      ),
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("desktop-like after a device login: the device flow first, and the URL still printed", async () => {
  await withManualProvider(async (provider, configHome) => {
    const first = new Cli(defaultLogin(provider, "--device"), {
      configHome,
      env: secretEnv(provider),
    });
    await approveDeviceCode(provider.origin, await userCode(first));
    assert.equal((await first.output()).code, 0);
    const again = new Cli(defaultLogin(provider, "--no-browser"), {
      configHome,
      env: secretEnv(provider, { DISPLAY: ":99" }),
    });
    await again.waitForLine(
      /^Logging in with the device flow and the browser flow: the device flow worked last time for .*; the browser flow runs too$/,
    );
    const code = await userCode(again);
    await again.authorizationUrl();
    await approveDeviceCode(provider.origin, code);
    const { code: exit, stderr } = await again.output();
    assert.equal(exit, 0, stderr);
  });
});
