/** The in-memory secrets store of `./testing` (issue 28): an app's tests keep tokens off disk. */
import assert from "node:assert/strict";
import { getToken, login, logout, LoopauthError } from "../../lib/mod.ts";
import { actAsUser, memorySecrets, startDevProvider } from "../../lib/testing.ts";
import { filesContaining, tempConfig } from "../helpers.ts";

Deno.test("memorySecrets: login, getToken and logout keep the secrets in memory only", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider();
  try {
    const secrets = memorySecrets();
    const app = { name: "ghstars", secrets };
    const where = { app, hostname: provider.origin, configDir: config.dir };
    const result = await login({
      ...where,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      flow: "web",
      openBrowser: false,
      onAuthorizationUrl: (url) => void actAsUser(url),
    });
    assert.equal(result.storage, "memory");
    assert.deepEqual([...secrets.items.keys()], [`${provider.origin} octocat`]);
    assert.deepEqual(await filesContaining(config.dir, result.accessToken), []);
    assert.deepEqual(await filesContaining(config.dir, provider.clientSecret), []);
    assert.equal(await getToken(where), result.accessToken);
    // Without the store (another run): the account is known, its secrets are gone.
    const gone = await getToken({ ...where, app: "ghstars" }).catch((e) => e);
    assert.ok(gone instanceof LoopauthError);
    assert.equal(gone.code, "not_logged_in");
    assert.match(
      gone.message,
      /kept in memory by the program that logged in, and are gone: log in again$/,
    );
    assert.deepEqual(await logout(where), {
      host: provider.origin,
      login: "octocat",
      revoked: true,
    });
    assert.equal(secrets.items.size, 0);
    assert.deepEqual(provider.activeTokens(), []);
  } finally {
    await provider.close();
  }
});
