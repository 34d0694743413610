/**
 * Two logins to one host at once both finish and leave a consistent store.
 * (That a full run leaks no code, state, verifier or refresh token is an
 * attack of the suite: tests/security/local_test.ts.)
 */
import assert from "node:assert/strict";
import { actAsUser, startDevProvider } from "../../lib/dev/provider.ts";
import { Cli, loginArgs, runCli, tempConfig } from "../helpers.ts";

const env = { LOOPAUTH_STORAGE: "file" };

Deno.test("two logins to one host at once: both finish, the store stays whole", async () => {
  const provider = startDevProvider({ autoApprove: true });
  await using config = await tempConfig();
  try {
    const first = new Cli(loginArgs(provider), { configHome: config.home, env });
    const second = new Cli(loginArgs(provider), { configHome: config.home, env });
    const urls = await Promise.all([first.authorizationUrl(), second.authorizationUrl()]);
    await Promise.all(urls.map((url) => actAsUser(url)));
    const results = await Promise.all([first.output(), second.output()]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/tokens.json`));
    const conf = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    assert.equal(conf.hosts[provider.origin].active, "octocat");
    const token = await runCli(["token", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    assert.equal(token.code, 0);
    assert.equal(token.stdout, `${stored.hosts[provider.origin].octocat.accessToken}\n`);
    assert.ok(provider.activeTokens().includes(token.stdout.trim()));
  } finally {
    await provider.close();
  }
});
