/**
 * The built-in provider against real third-party GitHub clients, from npm,
 * unchanged: every function of @octokit/oauth-methods, and a device login
 * and refresh by @octokit/auth-oauth-device and @octokit/auth-oauth-user.
 */
import assert from "node:assert/strict";
import * as methods from "npm:@octokit/oauth-methods@^6";
import { createOAuthDeviceAuth } from "npm:@octokit/auth-oauth-device@^8";
import { createOAuthUserAuth } from "npm:@octokit/auth-oauth-user@^6";
import { request as octokitRequest } from "npm:@octokit/request@^10";
import {
  actAsUser,
  approveDeviceCode,
  type DevProvider,
  type RecordedRequest,
  startDevProvider,
} from "../../lib/dev/provider.ts";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";

/** Octokit's `request`, pointed at the provider's API as at a GitHub Enterprise Server. */
function requestFor(provider: DevProvider) {
  return octokitRequest.defaults({ baseUrl: provider.apiUrl });
}

/** Waits (at most 10 s) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

/** The HTTP status of a rejected Octokit call. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    return (error as { status: number }).status;
  }
  throw new Error("The call succeeded");
}

/** A loopback callback that answers with the query it received (where the code is). */
function callbackServer(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => new Response(new URL(request.url).search),
  );
}

/** Plays the user on the consent page of `url`; the code the callback received. */
async function approveAndGetCode(url: string): Promise<string> {
  const page = await actAsUser(url);
  assert.equal(page.status, 200);
  const code = new URLSearchParams(page.body).get("code");
  assert.ok(code, page.body);
  return code;
}

function last(provider: DevProvider, method: string, path: string): RecordedRequest {
  const found = provider.requests.findLast((r) => r.method === method && r.path === path);
  assert.ok(found, `${method} ${path} reached the provider`);
  return found;
}

Deno.test("@octokit/oauth-methods: every function it exports works against the provider", async () => {
  const provider = startDevProvider({ deviceInterval: 0 }); // polls may follow at once
  const callback = callbackServer();
  const called = new Set<string>();
  const request = requestFor(provider);
  const app = { clientId: provider.clientId, clientSecret: provider.clientSecret, request };
  const tokens = `/api/v3/applications/${provider.clientId}/token`;
  try {
    // Web flow: the URL it builds, the consent page, the code exchange (JSON body).
    const redirectUrl = `http://127.0.0.1:${callback.addr.port}/callback`;
    const { url } = methods.getWebFlowAuthorizationUrl({
      clientType: "oauth-app",
      clientId: provider.clientId,
      redirectUrl,
      scopes: ["repo", "read:org"],
      state: "s1",
      request,
    });
    called.add("getWebFlowAuthorizationUrl");
    assert.ok(url.startsWith(`${provider.origin}/login/oauth/authorize?`), url);
    const code = await approveAndGetCode(url);
    const web = await methods.exchangeWebFlowCode({
      clientType: "oauth-app",
      ...app,
      code,
      redirectUrl,
    });
    called.add("exchangeWebFlowCode");
    assert.match(web.authentication.token, /^gho_/);
    const exchange = last(provider, "POST", "/login/oauth/access_token");
    assert.match(exchange.headers["content-type"], /^application\/json/);
    assert.equal(JSON.parse(exchange.body).code, code);

    // Check: the authorization object, with Basic client credentials.
    const check = await methods.checkToken({
      clientType: "oauth-app",
      ...app,
      token: web.authentication.token,
    });
    called.add("checkToken");
    assert.equal(check.status, 200);
    assert.deepEqual(check.authentication.scopes, ["repo", "read:org"]);
    assert.equal(check.data.token, web.authentication.token);
    assert.equal(check.data.user?.login, "octocat");
    assert.equal(check.data.app.client_id, provider.clientId);
    assert.equal(check.data.token_last_eight, web.authentication.token.slice(-8));
    assert.match(last(provider, "POST", tokens).headers.authorization, /^basic /);

    // Scoped: a second token beside the first.
    const scoped = await methods.scopeToken({
      clientType: "github-app",
      ...app,
      token: web.authentication.token,
      target: "octocat",
      permissions: { contents: "read" },
    });
    called.add("scopeToken");
    assert.notEqual(scoped.authentication.token, web.authentication.token);
    assert.ok(provider.activeTokens().includes(scoped.authentication.token));
    assert.ok(provider.activeTokens().includes(web.authentication.token));

    // Reset: a new token; the old one is gone (404 to a check).
    const reset = await methods.resetToken({
      clientType: "oauth-app",
      ...app,
      token: web.authentication.token,
    });
    called.add("resetToken");
    assert.match(reset.authentication.token, /^gho_/);
    assert.notEqual(reset.authentication.token, web.authentication.token);
    assert.equal(
      await statusOf(methods.checkToken({
        clientType: "oauth-app",
        ...app,
        token: web.authentication.token,
      })),
      404,
    );
    const me = await request("GET /user", {
      headers: { authorization: `token ${reset.authentication.token}` },
    });
    assert.equal(me.data.login, "octocat");
    assert.equal(me.headers["x-oauth-scopes"], "repo, read:org");

    // Delete the token: 204, and only it is gone.
    const deleted = await methods.deleteToken({
      clientType: "oauth-app",
      ...app,
      token: reset.authentication.token,
    });
    called.add("deleteToken");
    assert.equal(deleted.status, 204);
    assert.ok(!provider.activeTokens().includes(reset.authentication.token));
    assert.ok(provider.activeTokens().includes(scoped.authentication.token));

    // Device flow: JSON to /login/device/code, pending until the user approves.
    const device = await methods.createDeviceCode({
      clientType: "oauth-app",
      clientId: provider.clientId,
      scopes: ["gist"],
      request,
    });
    called.add("createDeviceCode");
    assert.match(device.data.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal(device.data.verification_uri, `${provider.origin}/login/device`);
    const codeRequest = last(provider, "POST", "/login/device/code");
    assert.match(codeRequest.headers["content-type"], /^application\/json/);
    assert.equal(JSON.parse(codeRequest.body).client_id, provider.clientId);
    const exchangeDevice = () =>
      methods.exchangeDeviceCode({
        clientType: "oauth-app",
        clientId: provider.clientId,
        code: device.data.device_code,
        request,
      });
    await assert.rejects(exchangeDevice(), /authorization_pending/);
    assert.equal((await approveDeviceCode(provider.origin, device.data.user_code)).status, 200);
    const deviceToken = await exchangeDevice();
    called.add("exchangeDeviceCode");
    assert.match(deviceToken.authentication.token, /^gho_/);

    // Delete the authorization: every token of the app for the user.
    const revoked = await methods.deleteAuthorization({
      clientType: "oauth-app",
      ...app,
      token: deviceToken.authentication.token,
    });
    called.add("deleteAuthorization");
    assert.equal(revoked.status, 204);
    assert.deepEqual(provider.activeTokens(), []);

    // Refresh: expiring (GitHub App) tokens, rotated, single use.
    provider.expiringTokens = { accessTtl: 3600, refreshTtl: 7200 };
    const appCode = await approveAndGetCode(
      methods.getWebFlowAuthorizationUrl({
        clientType: "github-app",
        clientId: provider.clientId,
        redirectUrl,
        request,
      }).url,
    );
    const first = await methods.exchangeWebFlowCode({
      clientType: "github-app",
      ...app,
      code: appCode,
      redirectUrl,
    });
    const pair = first.authentication as { refreshToken: string; expiresAt: string };
    assert.match(pair.refreshToken, /^ghr_/);
    assert.ok(Date.parse(pair.expiresAt) > Date.now());
    const refreshed = await methods.refreshToken({
      clientType: "github-app",
      ...app,
      refreshToken: pair.refreshToken,
    });
    called.add("refreshToken");
    assert.match(refreshed.authentication.token, /^ghu_/);
    assert.notEqual(refreshed.authentication.refreshToken, pair.refreshToken);
    await assert.rejects(
      methods.refreshToken({
        clientType: "github-app",
        ...app,
        refreshToken: pair.refreshToken,
      }),
      /bad_refresh_token/,
    );

    const exported = Object.entries(methods).filter(([, v]) => typeof v === "function")
      .map(([name]) => name).sort();
    assert.deepEqual([...called].sort(), exported, "every exported function was exercised");
  } finally {
    await callback.shutdown();
    await provider.close();
  }
});

Deno.test("@octokit/auth-oauth-device: a full device login, polling until the user approves", async () => {
  const provider = startDevProvider({ deviceInterval: 0.2 });
  try {
    let approval: Promise<unknown> = Promise.resolve();
    const polls = () =>
      provider.requests.filter((r) =>
        r.path === "/login/oauth/access_token" &&
        JSON.parse(r.body).grant_type === DEVICE_GRANT_TYPE
      ).length;
    const auth = createOAuthDeviceAuth({
      clientType: "oauth-app",
      clientId: provider.clientId,
      scopes: ["repo"],
      request: requestFor(provider),
      onVerification(verification) {
        // The user approves only after the client has polled once.
        approval = (async () => {
          await until(() => polls() >= 1, "the first poll");
          await approveDeviceCode(provider.origin, verification.user_code);
        })();
      },
    });
    const authentication = await auth({ type: "oauth" });
    await approval;
    assert.match(authentication.token, /^gho_/);
    assert.ok(polls() >= 2, `polled ${polls()} times`);
    assert.deepEqual(provider.activeTokens(), [authentication.token]);
    // The code request and every poll were JSON, as Octokit sends them.
    for (
      const sent of provider.requests.filter((r) =>
        r.path === "/login/device/code" || r.path === "/login/oauth/access_token"
      )
    ) {
      assert.match(sent.headers["content-type"], /^application\/json/);
    }
  } finally {
    await provider.close();
  }
});

Deno.test("@octokit/auth-oauth-user: device login, refresh, check, reset and delete of expiring tokens", async () => {
  const provider = startDevProvider({
    deviceInterval: 0.2,
    expiringTokens: { accessTtl: 3600, refreshTtl: 7200 },
  });
  try {
    const request = requestFor(provider);
    let approval: Promise<unknown> = Promise.resolve();
    const created: string[] = [];
    const auth = createOAuthUserAuth({
      clientType: "github-app",
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      request,
      onVerification(verification) {
        approval = approveDeviceCode(provider.origin, verification.user_code);
      },
      onTokenCreated(authentication) {
        if (authentication) created.push(authentication.token);
      },
    });
    const login = await auth();
    await approval;
    assert.match(login.token, /^ghu_/);
    assert.ok("refreshToken" in login && /^ghr_/.test(login.refreshToken));

    const refreshed = await auth({ type: "refresh" });
    assert.match(refreshed.token, /^ghu_/);
    assert.notEqual(refreshed.token, login.token);
    assert.deepEqual(provider.activeRefreshTokens(), [
      (refreshed as { refreshToken: string }).refreshToken,
    ]);
    const refresh = JSON.parse(last(provider, "POST", "/login/oauth/access_token").body);
    assert.equal(refresh.grant_type, "refresh_token");

    // (Octokit keeps no refresh token after a check or reset: refresh first.)
    // type "check" asks POST /applications/{client_id}/token with Basic auth.
    const checked = await auth({ type: "check" });
    assert.equal(checked.token, refreshed.token);
    assert.ok("expiresAt" in checked && Date.parse(checked.expiresAt) > Date.now());

    // Its hook sends the token to the API.
    const me = await auth.hook(request, "GET /user");
    assert.equal(me.data.login, "octocat");
    assert.equal(
      last(provider, "GET", "/api/v3/user").headers.authorization,
      `token ${refreshed.token}`,
    );

    const reset = await auth({ type: "reset" });
    assert.notEqual(reset.token, refreshed.token);
    assert.ok(provider.activeTokens().includes(reset.token));
    assert.ok(!provider.activeTokens().includes(refreshed.token));
    assert.ok(created.includes(refreshed.token) && created.includes(reset.token), "told of both");

    const deleted = await auth({ type: "delete" });
    assert.equal((deleted as { invalid?: boolean }).invalid, true);
    assert.ok(!provider.activeTokens().includes(reset.token));
    await assert.rejects(auth(), /Token is invalid/);
  } finally {
    await provider.close();
  }
});
