import assert from "node:assert/strict";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { LoopauthError } from "../../lib/core/errors.ts";
import {
  parseTokenResponse,
  pollDeviceToken,
  requestDeviceCode,
} from "../../lib/providers/github.ts";
import { resolveGitHubHost } from "../../lib/providers/github_host.ts";
import { startDevProvider } from "../../lib/dev/provider.ts";
import { rememberedFlow, rememberFlow } from "../../lib/store/flow_memory.ts";
import { tempConfig } from "../helpers.ts";

Deno.test("device-flow errors of the token endpoint map to clear errors and exit codes", () => {
  const cases: [string, string, RegExp][] = [
    ["expired_token", "timeout", /device code expired/],
    ["token_expired", "timeout", /device code expired/],
    ["access_denied", "access_denied", /denied/],
    ["device_flow_disabled", "oauth", /tick Enable Device Flow in the app's settings/],
    ["incorrect_device_code", "oauth", /device code is not valid/],
    ["incorrect_client_credentials", "oauth", /client ID or client secret is wrong/],
    ["unsupported_grant_type", "oauth", /does not support this grant type/],
  ];
  for (const [error, code, message] of cases) {
    assert.throws(
      () => parseTokenResponse(200, JSON.stringify({ error }), "github.com"),
      (e: unknown) => e instanceof LoopauthError && e.code === code && message.test(e.message),
      error,
    );
  }
});

Deno.test("the dev provider answers slow_down to a client that polls too fast", async () => {
  const provider = startDevProvider({ deviceInterval: 0.3, slowDownIncrement: 1 });
  try {
    const host = resolveGitHubHost(provider.origin);
    const code = await requestDeviceCode(host, { clientId: provider.clientId });
    assert.equal(code.interval, 0.3);
    assert.equal(code.verificationUri, `${provider.origin}/login/device`);
    const options = { clientId: provider.clientId, deviceCode: code.deviceCode };
    assert.deepEqual(await pollDeviceToken(host, options), { status: "pending" });
    assert.deepEqual(await pollDeviceToken(host, options), { status: "slow_down", interval: 1.3 });
    // A wrong device code and a wrong grant are refused, as GitHub does.
    await assert.rejects(
      pollDeviceToken(host, { ...options, deviceCode: "nope" }),
      /device code is not valid/,
    );
    const wrong = await fetch(`${provider.origin}/login/oauth/access_token`, {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams({
        client_id: "other",
        device_code: "x",
        grant_type: DEVICE_GRANT_TYPE,
      }),
    });
    assert.equal((await wrong.json()).error, "incorrect_client_credentials");
  } finally {
    await provider.close();
  }
});

Deno.test("a host or app without device flow is reported as unavailable", async () => {
  const provider = startDevProvider({ deviceFlowDisabled: true });
  try {
    const error = await requestDeviceCode(resolveGitHubHost(provider.origin), {
      clientId: provider.clientId,
    }).catch((e) => e);
    assert.ok(error instanceof LoopauthError);
    assert.equal(error.reason, "device_unavailable");
    // A server without the endpoint at all (404).
    const bare = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("Not Found", { status: 404 }),
    );
    try {
      const missing = await requestDeviceCode(
        resolveGitHubHost(`http://127.0.0.1:${bare.addr.port}`),
        { clientId: "x" },
      ).catch((e) => e);
      assert.equal(missing.reason, "device_unavailable");
      assert.match(
        missing.message,
        /does not offer the device flow for this app: log in with --web/,
      );
    } finally {
      await bare.shutdown();
    }
  } finally {
    await provider.close();
  }
});

Deno.test("the flow memory is per host, 0600, and a broken file only forgets", async () => {
  await using config = await tempConfig();
  const dir = config.dir;
  assert.equal(await rememberedFlow("github.com", { dir }), undefined);
  await rememberFlow("github.com", "device", { dir });
  await rememberFlow("ghe.example.com", "web", { dir });
  assert.equal(await rememberedFlow("github.com", { dir }), "device");
  assert.equal(await rememberedFlow("ghe.example.com", { dir }), "web");
  if (Deno.build.os !== "windows") {
    assert.equal((await Deno.stat(`${dir}/flows.json`)).mode! & 0o777, 0o600);
  }
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["flows.json"]);
  await Deno.writeTextFile(`${dir}/flows.json`, "{not json", { mode: 0o600 });
  assert.equal(await rememberedFlow("github.com", { dir }), undefined);
  await rememberFlow("github.com", "web", { dir });
  assert.equal(await rememberedFlow("github.com", { dir }), "web");
});
