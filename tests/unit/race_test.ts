/**
 * The SSH race in-process, so Deno's op and resource sanitizers (on by
 * default) catch a poller, timer, listener or connection left behind by the
 * flow that lost: a poller still alive when the test ends has a timer or a
 * request pending, and the sanitizer fails the test for it.
 */
import assert from "node:assert/strict";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { actAsUser, approveDeviceCode, type DevProvider } from "../../lib/dev/provider.ts";
import { login, type LoginResult } from "../../lib/ops/login.ts";
import { isListening, tokenRequests, withProvider } from "../helpers.ts";

const ENVIRONMENT = {
  env: { SSH_CONNECTION: "10.1.2.3 50000 10.9.8.7 22" },
  os: "linux" as const,
  isContainer: () => false,
};

function race(
  provider: DevProvider,
  configDir: string,
  signal?: AbortSignal,
): { url: Promise<string>; userCode: Promise<string>; result: Promise<LoginResult> } {
  const url = Promise.withResolvers<string>();
  const userCode = Promise.withResolvers<string>();
  const result: Promise<LoginResult> = login({
    hostname: provider.origin,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    flow: "auto",
    environment: ENVIRONMENT,
    configDir,
    storage: "file", // never the developer's keyring or agent
    openBrowser: false,
    signal,
    onAuthorizationUrl: url.resolve,
    onDeviceCode: (code) => userCode.resolve(code.userCode),
  });
  // A login that fails before it shows its URL or code fails those waits too, at once.
  result.catch((error) => {
    url.reject(error);
    userCode.reject(error);
  });
  url.promise.catch(() => {});
  userCode.promise.catch(() => {});
  return { url: url.promise, userCode: userCode.promise, result };
}

Deno.test("race, device wins: the callback port is closed when login returns", async () => {
  await withProvider(async (provider, _home, configDir) => {
    const run = race(provider, configDir);
    const port = Number(new URL(new URL(await run.url).searchParams.get("redirect_uri")!).port);
    assert.equal(await isListening(port), true);
    await approveDeviceCode(provider.origin, await run.userCode);
    const result = await run.result;
    assert.equal(result.flow, "device");
    assert.equal(result.login, "octocat");
    assert.equal(await isListening(port), false);
  }, { autoApprove: false, deviceInterval: 0.1 });
});

Deno.test("race, loopback wins: no poll after login returns", async () => {
  let polled = 0;
  let seen: DevProvider | undefined;
  await withProvider(async (provider, _home, configDir) => {
    const run = race(provider, configDir);
    await run.userCode;
    const page = await actAsUser(await run.url);
    assert.equal(page.status, 200);
    const result = await run.result;
    assert.equal(result.flow, "web");
    // Counted by events, not by waiting: after the winning code exchange at most the one poll
    // already in flight, and none once login returned (a live poller fails the op sanitizer).
    const requests = provider.requests;
    const won = requests.findIndex((r) =>
      r.path === "/login/oauth/access_token" && new URLSearchParams(r.body).has("code")
    );
    assert.ok(won >= 0, "the code was exchanged");
    const pollsAfter = requests.slice(won + 1).filter((r) =>
      new URLSearchParams(r.body).get("grant_type") === DEVICE_GRANT_TYPE
    );
    assert.ok(pollsAfter.length <= 1, `${pollsAfter.length} polls after the winner`);
    polled = tokenRequests(provider, DEVICE_GRANT_TYPE).length;
    seen = provider;
  }, { deviceInterval: 0.1 });
  // The provider is closed: every request it will ever record is there.
  assert.equal(tokenRequests(seen!, DEVICE_GRANT_TYPE).length, polled);
});

Deno.test("race: an abort stops both flows at once", async () => {
  await withProvider(async (provider, _home, configDir) => {
    const controller = new AbortController();
    const run = race(provider, configDir, controller.signal);
    await run.userCode;
    const port = Number(new URL(new URL(await run.url).searchParams.get("redirect_uri")!).port);
    controller.abort();
    await assert.rejects(run.result, { code: "cancelled" });
    assert.equal(await isListening(port), false);
  }, { autoApprove: false, deviceInterval: 0.1 });
});
