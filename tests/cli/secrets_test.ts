/**
 * Two logins to one host at once: the second is refused with one line while
 * the first holds the host's login lock (rather than both finishing and the
 * last silently replacing the first); the store stays whole.
 * (That a full run leaks no code, state, verifier or refresh token is an
 * attack of the suite: tests/security/local_test.ts.)
 */
import assert from "node:assert/strict";
import { actAsUser, startDevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { Cli, providerLoginArgs, runCli, secretEnv, tempConfig } from "../helpers.ts";

const env = { LOOPAUTH_STORAGE: "file" };

Deno.test("two logins to one host at once: the second is refused with one line, the first finishes and is stored", async () => {
  const provider = startDevProvider({ autoApprove: true });
  const other = startDevProvider({ autoApprove: true });
  await using config = await tempConfig();
  try {
    const first = new Cli(providerLoginArgs(provider), {
      configHome: config.home,
      env: secretEnv(provider, env),
    });
    // A default login, as typed: every route runs here (the device code, then the URL).
    await first.waitForLine(/one-time code: /);
    const url = await first.authorizationUrl();
    // While the first waits, a second login to the same host ends at once, before it asks
    // the provider for a device code of its own.
    const deviceCodes = () => provider.requests.filter((r) => r.path === "/login/device/code");
    const before = deviceCodes().length;
    const second = await runCli(providerLoginArgs(provider), {
      configHome: config.home,
      env: secretEnv(provider, env),
    });
    assert.equal(second.code, EXIT_CODES.storage, second.stderr);
    assert.equal(
      second.stderr,
      `Error: Another login to ${provider.origin} is under way: finish or cancel it (Ctrl-C where it runs), then log in again`,
    );
    assert.equal(deviceCodes().length, before);
    // A login to another host is not held up.
    const elsewhere = new Cli(providerLoginArgs(other), {
      configHome: config.home,
      env: secretEnv(other, env),
    });
    await actAsUser(await elsewhere.authorizationUrl());
    assert.equal((await elsewhere.output()).code, 0);

    await actAsUser(url);
    const done = await first.output();
    assert.equal(done.code, 0, done.stderr);
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/tokens.json`));
    const conf = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    assert.equal(conf.hosts[provider.origin].active, "octocat");
    const token = await runCli(["token", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    assert.equal(token.code, 0);
    assert.equal(token.stdout, `${stored.hosts[provider.origin].octocat.accessToken}\n`);
    assert.deepEqual(provider.activeTokens(), [token.stdout.trim()], "one login, one token");

    // Once the first has finished, the login the message asks for works.
    const again = new Cli(providerLoginArgs(provider), {
      configHome: config.home,
      env: secretEnv(provider, env),
    });
    await actAsUser(await again.authorizationUrl());
    const retried = await again.output();
    assert.equal(retried.code, 0, retried.stderr);
  } finally {
    await provider.close();
    await other.close();
  }
});
