/**
 * One path through a login, counted (not timed): the host is resolved once,
 * the config directory is checked once, its lock and the host's login lock
 * are each taken once, and flows.json is written while that one lock is
 * held; for the library's login, the CLI's and a stored resource login.
 */
import assert from "node:assert/strict";
import { login, resourceLogin } from "../../lib/mod.ts";
import {
  actAsUser,
  resetStepCounts,
  startDevMcp,
  startDevProvider,
  stepCounts,
} from "../../lib/testing.ts";
import { reauthorize } from "../../lib/ops/reauthorize.ts";
import { Cli, loginArgs, runFlags, secretEnv, tempConfig } from "../helpers.ts";

/** tests/helpers/counted_main.ts: the CLI, printing its step counts last. */
const COUNTED_MAIN = new URL("../helpers/counted_main.ts", import.meta.url).pathname;

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
      // The config directory: checked once (a second login reads the stored account's app
      // first; the preflight and the lock rely on that check).
      assert.equal(counts.config_dir_checked, 1, `${round} login: config directory checks`);
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

Deno.test("the CLI's login checks the config directory once and takes each lock once (a first login and a second one)", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  try {
    for (const round of ["first", "second"]) {
      const cli = new Cli(loginArgs(provider), {
        configHome: config.home,
        env: secretEnv(provider),
        command: [
          Deno.execPath(),
          "run",
          ...runFlags(config.dir),
          COUNTED_MAIN,
        ],
      });
      await actAsUser(await cli.authorizationUrl());
      const { code, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
      const counts = JSON.parse(/^steps (.*)$/m.exec(stderr)?.[1] ?? "null");
      assert.deepEqual(counts, {
        host_resolved: 1,
        config_lock: 1,
        login_lock: 1,
        config_dir_checked: 1,
        provider_made: 1,
      }, `${round} login`);
    }
  } finally {
    await provider.close();
  }
});

Deno.test("a stored resource login checks the config directory once", async () => {
  await using config = await tempConfig();
  const mcp = startDevMcp();
  try {
    for (const round of ["first", "second"]) {
      resetStepCounts();
      const result = await resourceLogin({
        resource: mcp.url,
        store: true,
        storage: "file",
        configDir: config.dir,
        openBrowser: false,
        // The user's browser: the server approves at once.
        onAuthorizationUrl: (link) => void fetch(link).then((r) => r.body?.cancel()),
      });
      assert.equal(result.storage, "file", round);
      // The first login registers a client (saved), the second reuses it (read).
      assert.equal(stepCounts().config_dir_checked, 1, `${round} resource login`);
    }
  } finally {
    await mcp.close();
  }
});

Deno.test("a refresh for more scopes (a login again) resolves its host once and makes one provider", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  try {
    const view = () => {
      let consent: Promise<unknown> | undefined;
      return {
        flow: "web" as const,
        openBrowser: false,
        onAuthorizationUrl: (url: string) => consent = actAsUser(url),
        consented: () => consent,
      };
    };
    const first = view();
    await login({
      ...first,
      hostname: provider.origin,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      scopes: ["read:user"],
      configDir: config.dir,
      storage: "file",
    });
    await first.consented();
    resetStepCounts();
    const again = view();
    const result = await reauthorize({
      ...again,
      hostname: provider.origin,
      addScopes: "repo",
      configDir: config.dir,
    });
    await again.consented();
    assert.deepEqual(result.scopes, ["read:user", "repo"]);
    assert.equal(result.previousRevoked, true);
    const counts = stepCounts();
    assert.deepEqual([counts.host_resolved, counts.provider_made], [1, 1]);
  } finally {
    await provider.close();
  }
});
