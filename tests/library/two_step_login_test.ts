/**
 * The two-step login from the library: `startLogin` returns at once, a
 * background waiter holds the login, `resumeLogin` waits for it or
 * finishes it with the address the browser ended up at.
 */
import assert from "node:assert/strict";
import { EXIT_CODES, getToken, LoopauthError, resumeLogin, startLogin } from "../../lib/mod.ts";
import { actAsUser, startDevProvider } from "../../lib/testing.ts";
import { tempConfig, tokenRequests } from "../helpers.ts";

Deno.test("library: startLogin then resumeLogin through the URL, then with a pasted address", async () => {
  const provider = startDevProvider({ autoApprove: true });
  await using config = await tempConfig();
  try {
    const options = {
      hostname: provider.origin,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      configDir: config.dir,
      storage: "file" as const,
      openBrowser: false,
    };
    const pending = await startLogin(options);
    assert.equal(new URL(pending.url!).origin, provider.origin);
    assert.ok(pending.userCode, "the dev provider offers the device flow");
    const resumed = resumeLogin(pending.id, { configDir: config.dir });
    assert.equal((await actAsUser(pending.url!)).status, 200);
    const result = await resumed;
    assert.equal(result.login, "octocat");
    assert.equal(result.storage, "file");
    assert.ok(!("accessToken" in result), "the outcome carries no token");
    assert.match(await getToken({ hostname: provider.origin, configDir: config.dir }), /^gh/);

    // Paste-back: a refused address is a usage error, the right one logs in.
    const second = await startLogin({ ...options, flow: "web" });
    const consent = await fetch(second.url!, { redirect: "manual" });
    await consent.body?.cancel();
    const callback = consent.headers.get("location")!;
    await assert.rejects(
      () => resumeLogin(second.id, { configDir: config.dir, code: "not a callback" }),
      (error: unknown) =>
        error instanceof LoopauthError && EXIT_CODES[error.code] === EXIT_CODES.usage,
    );
    const pasted = await resumeLogin(second.id, { configDir: config.dir, code: callback });
    assert.equal(pasted.login, "octocat");
    assert.equal(pasted.flow, "web");
    assert.equal(tokenRequests(provider, "authorization_code").length, 2);
  } finally {
    await provider.close();
  }
});
