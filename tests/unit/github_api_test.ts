/**
 * The login's identity call (`whoami`, a plain `fetch` through the origin
 * guard): what the server receives, and its failures as one clear error each,
 * worded as Octokit's errors are.
 */
import assert from "node:assert/strict";
import { LoopauthError } from "../../lib/core/errors.ts";
import { actAsUser } from "../../lib/dev/provider.ts";
import { login } from "../../lib/ops/login.ts";
import { whoami } from "../../lib/providers/github_api.ts";
import { withProvider } from "../helpers.ts";

Deno.test("whoami: GET /user with the token and loopauth's user agent; 401 and no server are errors", async () => {
  await withProvider(async (provider, _home, configDir) => {
    const { accessToken } = await login({
      hostname: provider.origin,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      openBrowser: (url) => actAsUser(url),
      configDir,
      store: false,
    });
    const apiUrl = `${provider.origin}/api/v3`;
    assert.equal(await whoami(apiUrl, accessToken), "octocat");
    const call = provider.requests.findLast((r) => r.path === "/api/v3/user")!;
    assert.equal(call.method, "GET");
    assert.equal(call.headers.authorization, `token ${accessToken}`);
    assert.match(call.headers["user-agent"], /^loopauth\//);
    assert.equal(call.headers.accept, "application/vnd.github.v3+json");

    const refused = await whoami(apiUrl, "gho_revoked").catch((e) => e);
    assert.ok(refused instanceof LoopauthError);
    assert.equal(refused.code, "api");
    // GitHub's `documentation_url` is cut off, as from Octokit's error (apiError).
    assert.equal(refused.message, `${new URL(apiUrl).host} answered HTTP 401: Bad credentials`);
    assert.equal(refused.status, 401);
    assert.doesNotMatch(refused.message, /gho_revoked/);

    await provider.close();
    const gone = await whoami(apiUrl, accessToken).catch((e) => e);
    assert.ok(gone instanceof LoopauthError);
    assert.equal(gone.code, "network");
  });
});
