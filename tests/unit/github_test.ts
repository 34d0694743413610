import assert from "node:assert/strict";
import { LoopauthError } from "../../lib/core/errors.ts";
import { parseTokenResponse } from "../../lib/providers/github.ts";
import { resolveGitHubHost } from "../../lib/providers/github_host.ts";
import { buildAuthorizationUrl } from "../../lib/flows/loopback.ts";
import { parseScopes } from "../../lib/ops/login.ts";
import { parseDuration } from "../../lib/core/duration.ts";

Deno.test("github.com uses api.github.com", () => {
  const host = resolveGitHubHost();
  assert.equal(host.key, "github.com");
  assert.equal(host.authorizationEndpoint, "https://github.com/login/oauth/authorize");
  assert.equal(host.tokenEndpoint, "https://github.com/login/oauth/access_token");
  assert.equal(host.apiUrl, "https://api.github.com");
  // The default's shortcut gives what parsing gives.
  for (const input of ["https://github.com", "https://GitHub.com/", " github.com:443 "]) {
    assert.deepEqual(resolveGitHubHost(input), host);
  }
});

Deno.test("any other host uses the GHES layout", () => {
  for (const input of ["ghe.example.com", "https://ghe.example.com", "https://GHE.example.com/"]) {
    const host = resolveGitHubHost(input);
    assert.equal(host.key, "ghe.example.com");
    assert.equal(host.tokenEndpoint, "https://ghe.example.com/login/oauth/access_token");
    assert.equal(host.apiUrl, "https://ghe.example.com/api/v3");
  }
  assert.equal(
    resolveGitHubHost("ghe.example.com:8443").apiUrl,
    "https://ghe.example.com:8443/api/v3",
  );
});

Deno.test("the authorization URL carries client id, redirect, scopes, state and S256 challenge", () => {
  const url = new URL(buildAuthorizationUrl("https://github.com/login/oauth/authorize", {
    clientId: "Iv1.abc",
    redirectUri: "http://127.0.0.1:4321/callback",
    scopes: ["read:user", "repo"],
    state: "the-state",
    codeChallenge: "the-challenge",
  }));
  assert.equal(url.origin + url.pathname, "https://github.com/login/oauth/authorize");
  const q = url.searchParams;
  assert.equal(q.get("client_id"), "Iv1.abc");
  assert.equal(q.get("redirect_uri"), "http://127.0.0.1:4321/callback");
  assert.equal(q.get("scope"), "read:user repo");
  assert.equal(q.get("state"), "the-state");
  assert.equal(q.get("code_challenge"), "the-challenge");
  assert.equal(q.get("code_challenge_method"), "S256");
  assert.equal(q.get("response_type"), "code");
});

Deno.test("scopes are read comma- or space-separated", () => {
  assert.deepEqual(parseScopes("read:user repo"), ["read:user", "repo"]);
  assert.deepEqual(parseScopes("read:user,repo"), ["read:user", "repo"]);
  assert.deepEqual(parseScopes(" repo , gist  repo"), ["repo", "gist"]);
  assert.deepEqual(parseScopes(undefined), []);
});

Deno.test("durations", () => {
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("90"), 90_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1h"), 3_600_000);
  for (const bad of ["", "5x", "-1s", "0", "abc"]) {
    assert.throws(
      () => parseDuration(bad),
      (e) => e instanceof LoopauthError && e.code === "usage",
    );
  }
});

Deno.test("token answers: comma scopes, lower-case type, expiry times", () => {
  const before = Date.now();
  const tokens = parseTokenResponse(
    200,
    JSON.stringify({
      access_token: "ghu_x",
      token_type: "Bearer",
      scope: "repo,gist",
      expires_in: 28800,
      refresh_token: "ghr_y",
      refresh_token_expires_in: 15811200,
    }),
    "github.com",
  );
  assert.equal(tokens.accessToken, "ghu_x");
  assert.equal(tokens.tokenType, "bearer");
  assert.deepEqual(tokens.scopes, ["repo", "gist"]);
  assert.equal(tokens.refreshToken, "ghr_y");
  const expires = Date.parse(tokens.expiresAt!);
  assert.ok(expires >= before + 28_800_000 && expires <= Date.now() + 28_800_000);
  assert.ok(Date.parse(tokens.refreshTokenExpiresAt!) > expires);
  assert.deepEqual(parseTokenResponse(200, '{"access_token":"a","scope":""}', "h").scopes, []);
});

const ERRORS: [string, RegExp][] = [
  ["incorrect_client_credentials", /client ID or client secret is wrong/],
  ["redirect_uri_mismatch", /redirect URI does not match.*http:\/\/127\.0\.0\.1\/callback/],
  ["bad_verification_code", /authorization code is invalid, expired or already used/],
  ["unverified_user_email", /email address is not verified/],
  ["bad_refresh_token", /refresh token is invalid or expired/],
  ["unsupported_grant_type", /does not support this grant type/],
];

for (const [error, message] of ERRORS) {
  Deno.test(`GitHub's 200-with-error ${error} becomes one clear line`, () => {
    const body = JSON.stringify({ error, error_description: "x", error_uri: "https://docs" });
    assert.throws(() => parseTokenResponse(200, body, "github.com"), (e) => {
      assert.ok(e instanceof LoopauthError);
      assert.equal(e.code, "oauth");
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /\n|\.$/);
      return true;
    });
  });
}

Deno.test("unknown errors, non-JSON and missing tokens are clear too", () => {
  assert.throws(
    () =>
      parseTokenResponse(
        200,
        '{"error":"weird\\u001b[31m","error_description":"Line\\nbreak"}',
        "h",
      ),
    (e) =>
      e instanceof LoopauthError &&
      /refused the request \(weird \[31m\): Line break/.test(e.message),
  );
  assert.throws(
    () => parseTokenResponse(502, "<html>bad gateway</html>", "h"),
    (e) =>
      e instanceof LoopauthError && e.code === "network" && /HTTP 502 without JSON/.test(e.message),
  );
  assert.throws(
    () => parseTokenResponse(200, "access_token=x&scope=repo", "h"),
    (e) => e instanceof LoopauthError && /without JSON/.test(e.message),
  );
  assert.throws(
    () => parseTokenResponse(200, "{}", "h"),
    (e) =>
      e instanceof LoopauthError && e.code === "oauth" && /without an access token/.test(e.message),
  );
});
