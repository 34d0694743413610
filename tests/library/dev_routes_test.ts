/**
 * The test double is extendable (issue 28): an app adds its own API routes to
 * the built-in provider, behind its real Host check and live tokens; two
 * providers run side by side, each with its own accounts and origin guard.
 */
import assert from "node:assert/strict";
import { Octokit } from "npm:@octokit/rest@^22";
import { apiRequest, createLoopauthAuth, login, LoopauthError } from "../../lib/mod.ts";
import { actAsUser, type DevProvider, startDevProvider } from "../../lib/testing.ts";
import { tempConfig } from "../helpers.ts";

/** Logs in to `provider` through the library, storing in a file under `configDir`. */
async function loginTo(provider: DevProvider, configDir: string): Promise<string> {
  const result = await login({
    hostname: provider.origin,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    configDir,
    storage: "file",
    flow: "web",
    openBrowser: false,
    onAuthorizationUrl: (url) => void actAsUser(url),
  });
  return result.accessToken;
}

Deno.test("dev provider: an app's own route (GET /user/starred) behind real tokens; a second provider beside it", async () => {
  await using config = await tempConfig();
  const starred: string[] = [];
  const stars = startDevProvider({
    scopesGranted: ["read:user"],
    routes: {
      "GET /user/starred": ({ user }) => starred.map((name) => ({ full_name: name, owner: user })),
      "PUT /user/starred/:owner/:repo": ({ params }) => {
        starred.push(`${params.owner}/${params.repo}`);
      },
    },
  });
  const other = startDevProvider({ user: { login: "hubot", id: 2, name: "Hubot" } });
  try {
    // Without a token the route is never reached: GitHub's 401, in JSON.
    const anonymous = await fetch(`${stars.apiUrl}/user/starred`);
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).message, "Requires authentication");
    const forged = await fetch(`${stars.apiUrl}/user/starred`, {
      headers: { authorization: "token gho_forged" },
    });
    assert.equal(forged.status, 401);
    await forged.body?.cancel();

    const token = await loginTo(stars, config.dir);
    const where = { hostname: stars.origin, configDir: config.dir };
    assert.equal(
      await apiRequest("/user/starred/denoland/deno", { ...where, method: "PUT" }),
      undefined,
    );
    assert.deepEqual(await apiRequest("/user/starred", where), [
      { full_name: "denoland/deno", owner: stars.user },
    ]);
    const sent = stars.requests.findLast((r) => r.path === "/api/v3/user/starred")!;
    assert.equal(sent.headers.authorization, `token ${token}`);
    const answer = await fetch(`${stars.apiUrl}/user/starred`, {
      headers: { authorization: `token ${token}` },
    });
    assert.equal(answer.headers.get("x-oauth-scopes"), "read:user");
    await answer.body?.cancel();
    // The built-in API is still there.
    assert.equal((await apiRequest("/user", where) as { login: string }).login, "octocat");

    // A second provider: its own account in the same config directory, its own token.
    const otherToken = await loginTo(other, config.dir);
    const there = { hostname: other.origin, configDir: config.dir };
    assert.equal((await apiRequest("/user", there) as { login: string }).login, "hubot");
    assert.equal((await apiRequest("/user", where) as { login: string }).login, "octocat");
    assert.notEqual(otherToken, token);
    // The origin guard holds between them: stars' token is never sent to the other.
    const octokit = new Octokit({
      authStrategy: createLoopauthAuth,
      auth: { ...where, loginIfNeeded: false },
      baseUrl: other.apiUrl,
      log: { debug() {}, info() {}, warn() {}, error() {} }, // the refusal is asserted, not printed
    });
    const refused = await octokit.rest.users.getAuthenticated().catch((e) => e);
    assert.ok(refused instanceof LoopauthError);
    assert.equal(refused.code, "usage");
    assert.ok(!other.requests.some((r) => r.headers.authorization === `token ${token}`));
  } finally {
    await stars.close();
    await other.close();
  }
});
