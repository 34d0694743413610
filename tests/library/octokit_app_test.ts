/**
 * Octokit's strategy as an embedding app uses it (issue 28): no `clientId`
 * where it cannot log in, the API base derived from `hostname`, and a token
 * the API refuses with no refresh token is `session_expired`.
 */
import assert from "node:assert/strict";
import { Octokit } from "npm:@octokit/rest@^22";
import { createLoopauthAuth, login, LoopauthError } from "../../lib/mod.ts";
import { actAsUser, startDevProvider } from "../../lib/testing.ts";
import { tempConfig } from "../helpers.ts";

/** The app, whose login takes --hostname as the CLI's does: its hints name it. */
const GHSTARS = { name: "ghstars", words: { "--hostname": "--hostname" } };
/** Octokit's logger, silent: the failures are asserted, not printed. */
const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("Octokit: no clientId and no baseUrl for a stored account; a revoked token is session_expired", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider();
  try {
    const where = { hostname: provider.origin, configDir: config.dir, app: GHSTARS };
    // Nothing stored and no way to log in: not_logged_in, not a usage error about clientId.
    const none = new Octokit({
      authStrategy: createLoopauthAuth,
      auth: { ...where, loginIfNeeded: false },
      log: QUIET,
    });
    const missing = await none.rest.users.getAuthenticated().catch((e) => e);
    assert.ok(missing instanceof LoopauthError, String(missing));
    assert.equal(missing.code, "not_logged_in");
    assert.match(missing.message, /: run ghstars login --hostname http:\/\/127\.0\.0\.1:\d+$/);

    const result = await login({
      ...where,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      storage: "file",
      flow: "web",
      openBrowser: false,
      onAuthorizationUrl: (url) => void actAsUser(url),
    });
    const octokit = new Octokit({
      authStrategy: createLoopauthAuth,
      auth: { ...where, loginIfNeeded: false },
      log: QUIET,
    });
    const before = provider.requests.length;
    const { data } = await octokit.rest.users.getAuthenticated();
    assert.equal(data.login, "octocat");
    const sent = provider.requests.slice(before).filter((r) => r.path === "/api/v3/user");
    assert.equal(sent.length, 1, "the request went to the host's API, derived from hostname");
    assert.equal(sent[0].headers.authorization, `token ${result.accessToken}`);

    // Revoked on the server (no refresh token): one session_expired error naming the login.
    const revoke = await fetch(
      `${provider.origin}/api/v3/applications/${provider.clientId}/token`,
      {
        method: "DELETE",
        headers: {
          authorization: `Basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ access_token: result.accessToken }),
      },
    );
    assert.equal(revoke.status, 204);
    const expired = await octokit.rest.users.getAuthenticated().catch((e) => e);
    assert.ok(expired instanceof LoopauthError, String(expired));
    assert.equal(expired.code, "session_expired");
    assert.equal(
      expired.message,
      `Session for ${provider.origin} expired: run ghstars login --hostname ${provider.origin}`,
    );
  } finally {
    await provider.close();
  }
});
