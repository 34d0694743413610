/**
 * One path through a login, counted (not timed): the host is resolved once,
 * the config directory's lock and the host's login lock are each taken once,
 * and flows.json is written while that one lock is held.
 */
import assert from "node:assert/strict";
import { login } from "../../lib/mod.ts";
import { actAsUser, resetStepCounts, startDevProvider, stepCounts } from "../../lib/testing.ts";
import { tempConfig } from "../helpers.ts";

Deno.test("a login resolves its host once and takes each lock once (a first login and a second one)", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  try {
    for (const round of ["first", "second"]) {
      resetStepCounts();
      let consent: Promise<unknown> | undefined;
      const result = await login({
        hostname: provider.origin,
        // The second login takes the client id and secret of the stored account.
        clientId: round === "first" ? provider.clientId : "",
        clientSecret: round === "first" ? provider.clientSecret : undefined,
        scopes: ["read:user"],
        configDir: config.dir,
        storage: "file",
        openBrowser: false,
        onAuthorizationUrl: (url) => consent = actAsUser(url),
      });
      await consent;
      assert.equal(result.login, "octocat", round);
      const counts = stepCounts();
      assert.equal(counts.host_resolved, 1, `${round} login: host resolutions`);
      assert.equal(counts.config_lock, 1, `${round} login: config locks taken`);
      assert.equal(counts.login_lock, 1, `${round} login: login locks taken`);
      // The config directory: checked before the flows start and on taking the lock (its
      // reads under the lock do not check again); a second login also reads the stored
      // account's app first.
      assert.equal(
        counts.config_dir_checked,
        round === "first" ? 2 : 3,
        `${round} login: config directory checks`,
      );
      // The flow memory was written (inside that one lock: no second lock was taken for it).
      const flows = JSON.parse(await Deno.readTextFile(`${config.dir}/flows.json`));
      assert.equal(flows.hosts[provider.origin].flow, "web", round);
    }
  } finally {
    await provider.close();
  }
});

Deno.test("a login that stores nothing takes no lock at all", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  try {
    resetStepCounts();
    let consent: Promise<unknown> | undefined;
    await login({
      hostname: provider.origin,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      configDir: config.dir,
      store: false,
      openBrowser: false,
      onAuthorizationUrl: (url) => consent = actAsUser(url),
    });
    await consent;
    const counts = stepCounts();
    assert.deepEqual(
      [counts.host_resolved, counts.config_lock, counts.login_lock],
      [1, 0, 0],
    );
  } finally {
    await provider.close();
  }
});
