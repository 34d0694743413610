/** `token()`: a valid token in one call, logging in only where allowed (issue 28). */
import assert from "node:assert/strict";
import { LoopauthError, token } from "../../lib/mod.ts";
import { actAsUser, startDevProvider } from "../../lib/testing.ts";
import { tempConfig, tokenRequests } from "../helpers.ts";

/** The app, whose login takes --hostname as the CLI's does: its hints name it. */
const GHSTARS = { name: "ghstars", words: { "--hostname": "--hostname" } };

Deno.test("token(): logs in once when allowed, then the stored token; refused without loginIfNeeded", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider({ expiringTokens: { accessTtl: 30, refreshTtl: 3600 } });
  try {
    const where = {
      hostname: provider.origin,
      configDir: config.dir,
      storage: "file" as const,
      app: GHSTARS,
    };
    const refused = await token({ ...where, loginIfNeeded: false }).catch((e) => e);
    assert.ok(refused instanceof LoopauthError);
    assert.equal(refused.code, "not_logged_in");
    assert.match(refused.message, /run ghstars login --hostname /);
    assert.equal(provider.activeTokens().length, 0, "no login happened");

    const urls: string[] = [];
    const first = await token({
      ...where,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      flow: "web",
      openBrowser: false,
      onAuthorizationUrl: (url) => {
        urls.push(url);
        void actAsUser(url);
      },
    });
    assert.equal(first.loggedIn, true);
    assert.equal(first.account.login, "octocat");
    assert.equal(first.account.storage, "file");
    assert.equal(urls.length, 1);

    // Later: the stored account, refreshed under the lock (its token expires within a minute).
    const later = await token({ ...where, loginIfNeeded: false });
    assert.equal(later.loggedIn, false);
    assert.equal(later.refreshable, true);
    assert.notEqual(later.token, first.token, "refreshed");
    assert.ok(provider.activeTokens().includes(later.token));
    assert.equal(tokenRequests(provider, "refresh_token").length, 1, "one refresh");
    assert.equal(urls.length, 1, "no second login");
  } finally {
    await provider.close();
  }
});
