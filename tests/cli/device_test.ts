/**
 * The device flow and the adaptive choice, through the real CLI against the
 * built-in provider (short intervals keep it fast).
 */
import assert from "node:assert/strict";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
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
  secretEnv,
  tempConfig,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";

const SSH = { SSH_CONNECTION: "10.1.2.3 50000 10.9.8.7 2222" };

/** A provider that approves nothing by itself and lets the device flow poll fast. */
function withDeviceProvider(
  options: DevProviderOptions,
  fn: (provider: DevProvider, configHome: string) => Promise<void>,
) {
  return withProvider(fn, { autoApprove: false, deviceInterval: 0.2, ...options });
}

/** The secret is for the browser flow; the device flow must not send it. */
const deviceArgs = providerLoginArgs;

async function userCode(cli: Cli): Promise<string> {
  const line = await cli.waitForLine(/one-time code: /);
  return /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(line)![1];
}

function noCredentials(configHome: string) {
  return assert.rejects(
    () => Deno.stat(`${configHome}/loopauth/tokens.json`),
    Deno.errors.NotFound,
  );
}

Deno.test("--device: code on stderr, user approves, token stored, no secret sent", async () => {
  await withDeviceProvider({}, async (provider, configHome) => {
    const cli = new Cli(deviceArgs(provider, "--device", "--scopes", "repo"), {
      configHome,
      env: secretEnv(provider),
    });
    const code = await userCode(cli);
    await cli.waitForLine(new RegExp(`enter it: ${provider.origin}/login/device$`));
    const page = await approveDeviceCode(provider.origin, code);
    assert.equal(page.status, 200);
    const { code: exit, stdout, stderr } = await cli.output();
    assert.equal(exit, 0, stderr);
    assert.equal(stdout, `Logged in to ${provider.origin} as octocat\n`);
    assert.match(
      stderr,
      /\nWaiting for the code to be entered \(times out in (5:00|4:5\d); Ctrl-C to cancel\)\n/,
    );
    assert.match(
      stderr,
      /\nEnter the code only if you started this login yourself, and only on 127\.0\.0\.1:\d+'s own page\n/,
    );
    assert.doesNotMatch(stderr, /\/login\/oauth\/authorize/, "--device prints no browser URL");
    const stored = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/tokens.json`));
    const config = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/config.json`));
    assert.deepEqual(config.hosts[provider.origin].accounts.octocat.scopes, ["repo"]);
    const token = stored.hosts[provider.origin].octocat;
    assert.deepEqual(provider.activeTokens(), [token.accessToken]);
    const request = new URLSearchParams(
      provider.requests.find((r) => r.path === "/login/device/code")!.body,
    );
    assert.equal(request.get("scope"), "repo");
    const sent = tokenRequests(provider, DEVICE_GRANT_TYPE);
    assert.ok(sent.length >= 1);
    for (const poll of sent) {
      const body = new URLSearchParams(poll.body);
      assert.equal(body.get("client_secret"), null);
      assert.equal(poll.headers.accept, "application/json");
      assert.ok(!stderr.includes(body.get("device_code")!), "the device code is never shown");
    }
    assert.ok(!stderr.includes(token.accessToken) && !stdout.includes(token.accessToken));
    const flows = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/flows.json`));
    assert.equal(flows.hosts[provider.origin].flow, "device");
    // No poll was faster than the interval.
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i].time - sent[i - 1].time >= 195);
  });
});

Deno.test("slow_down: the client waits the new interval the server returns when it is longer than 5 s more", async () => {
  await withDeviceProvider(
    { slowDownIncrement: 6, deviceExpiresIn: 60 },
    async (provider, configHome) => {
      provider.forceSlowDown = 1;
      const cli = new Cli(deviceArgs(provider, "--device"), {
        configHome,
        env: secretEnv(provider),
      });
      const code = await userCode(cli);
      // Let polls happen until one came after the slow_down (bounded).
      await waitUntil(() => tokenRequests(provider, DEVICE_GRANT_TYPE).length >= 1, {
        what: "a first poll",
      });
      await approveDeviceCode(provider.origin, code);
      const { code: exit, stderr } = await cli.output();
      assert.equal(exit, 0, stderr);
      const sent = tokenRequests(provider, DEVICE_GRANT_TYPE);
      assert.equal(sent.length, 2, "slow_down, then the token");
      // 0.2 s + the server's 6 s (RFC 8628's 5 s would be less); one slow_down, no hint.
      const gap = sent[1].time - sent[0].time;
      assert.ok(gap >= 6_200, `gap ${Math.round(gap)} ms`);
      assert.equal(provider.forceSlowDown, 0);
      assert.doesNotMatch(stderr, /clock/);
    },
  );
});

Deno.test("denied on the device page: exit 4, nothing stored", async () => {
  await withDeviceProvider({}, async (provider, configHome) => {
    const cli = new Cli(deviceArgs(provider, "--device"), { configHome, env: secretEnv(provider) });
    await approveDeviceCode(provider.origin, await userCode(cli), { decision: "cancel" });
    const { code, stdout, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.access_denied);
    assert.equal(stdout, "");
    assert.match(stderr, /\nError: Access was denied in the browser: nothing was stored$/);
    await noCredentials(configHome);
  });
});

Deno.test("an expired code: clear message, exit 6, nothing stored, polling stops", async () => {
  await withDeviceProvider({ deviceExpiresIn: 1 }, async (provider, configHome) => {
    const cli = new Cli(deviceArgs(provider, "--device"), { configHome, env: secretEnv(provider) });
    await userCode(cli);
    const { code, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.timeout);
    assert.match(
      stderr,
      /\nError: The device code expired before it was entered: run the command again$/,
    );
    await noCredentials(configHome);
    // Polling stops with the process: it polled, then exited at the expiry (a run that kept
    // polling would not exit, and cli.output() fails a run that does not end).
    assert.ok(tokenRequests(provider, DEVICE_GRANT_TYPE).length > 0, "it polled");
  });
});

Deno.test("device_flow_disabled: --device says how to enable it; auto falls back to the browser", async () => {
  await withDeviceProvider(
    { deviceFlowDisabled: true, autoApprove: true },
    async (provider, configHome) => {
      const forced = await new Cli(deviceArgs(provider, "--device"), {
        configHome,
        env: secretEnv(provider),
      }).output();
      assert.equal(forced.code, EXIT_CODES.oauth);
      assert.match(
        forced.stderr,
        /^Error: Device flow is not enabled for this app: tick Enable Device Flow in the app's settings, or log in with --web$/,
      );
      // No display here: auto runs both, the device route drops out, the browser wins.
      const cli = new Cli(deviceArgs(provider), { configHome, env: secretEnv(provider) });
      await cli.waitForLine(/^Logging in with the device flow and the browser flow: /);
      await cli.waitForLine(
        /^Logging in with the browser flow: the device flow is not available for this app on /,
      );
      await actAsUser(await cli.authorizationUrl());
      const { code, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
      assert.match(stderr, /^Waiting for the browser \(times out in /m);
    },
  );
});

Deno.test("over SSH both run: the device code wins and the callback port closes", async () => {
  await withDeviceProvider({}, async (provider, configHome) => {
    const cli = new Cli(deviceArgs(provider, "--no-browser"), {
      configHome,
      env: secretEnv(provider, SSH),
    });
    await cli.waitForLine(
      /^Logging in with the device flow and the browser flow: this is an SSH session without a forwarded display; every route runs and the first to finish wins$/,
    );
    const url = await cli.authorizationUrl();
    const port = Number(new URL(new URL(url).searchParams.get("redirect_uri")!).port);
    await cli.waitForLine(
      new RegExp(
        `forward the callback port: ssh -L ${port}:127\\.0\\.0\\.1:${port} -p 2222 10\\.9\\.8\\.7$`,
      ),
    );
    assert.equal(await isListening(port), true);
    await approveDeviceCode(provider.origin, await userCode(cli));
    const { code, stderr } = await cli.output();
    assert.equal(code, 0, stderr);
    assert.equal(await isListening(port), false);
  });
});

Deno.test("over SSH both run: the forwarded browser callback wins and polling stops", async () => {
  await withDeviceProvider({ autoApprove: true }, async (provider, configHome) => {
    const cli = new Cli(deviceArgs(provider, "--no-browser"), {
      configHome,
      env: secretEnv(provider, SSH),
    });
    const url = await cli.authorizationUrl();
    await userCode(cli);
    const page = await actAsUser(url);
    assert.equal(page.status, 200);
    const { code, stderr } = await cli.output();
    assert.equal(code, 0, stderr);
    // Counted, not waited for: after the winning code exchange at most the one poll already in
    // flight (the process has exited, so none can follow).
    const won = provider.requests.findIndex((r) =>
      r.path === "/login/oauth/access_token" && new URLSearchParams(r.body).has("code")
    );
    assert.ok(won >= 0, "the browser's code was exchanged");
    const after = provider.requests.slice(won + 1).filter((r) =>
      new URLSearchParams(r.body).get("grant_type") === DEVICE_GRANT_TYPE
    );
    assert.ok(after.length <= 1, `${after.length} polls after the login`);
    const flows = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/flows.json`));
    assert.equal(flows.hosts[provider.origin].flow, "web");
  });
});

Deno.test({
  name: "Ctrl-C while polling: exit 130 at once, no poll after",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // An interval of an hour: only a Ctrl-C that ends the wait at once lets the CLI exit
    // (cli.output() fails a run that does not end).
    await withDeviceProvider({ deviceInterval: 3600 }, async (provider, configHome) => {
      const cli = new Cli(deviceArgs(provider, "--device"), {
        configHome,
        env: secretEnv(provider),
      });
      await userCode(cli);
      const polls = tokenRequests(provider, DEVICE_GRANT_TYPE).length;
      cli.child.kill("SIGINT");
      const { code, stderr } = await cli.output(15_000);
      assert.equal(code, EXIT_CODES.cancelled);
      assert.match(stderr, /\nError: Cancelled$/);
      assert.equal(tokenRequests(provider, DEVICE_GRANT_TYPE).length, polls, "no poll after");
      await noCredentials(configHome);
    });
  },
});

Deno.test("--device and --web together are a usage error", async () => {
  await using config = await tempConfig();
  const cli = new Cli(["login", "--client-id", "x", "--device", "--web"], {
    configHome: config.home,
  });
  const { code, stderr } = await cli.output();
  assert.equal(code, EXIT_CODES.usage);
  assert.equal(
    stderr,
    "Error: Give --device or --web, not both: see loopauth help login\n".trimEnd(),
  );
});
