/**
 * The library's defaults are the CLI's (issue 28): with nothing asked of the
 * view, a login prints the URL on stderr as the CLI does, tries a browser,
 * and says in its result whether one opened.
 */
import assert from "node:assert/strict";
import { actAsUser } from "../../lib/testing.ts";
import { Cli, withProvider } from "../helpers.ts";

const FIXTURE = new URL("../fixtures/default_view.ts", import.meta.url).pathname;

Deno.test("library login: the CLI's view by default, and whether a browser opened", async () => {
  await withProvider(async (provider, configHome) => {
    // No --allow-run: the browser cannot start, which the result and a note say.
    const cli = new Cli([provider.origin, provider.clientId, provider.clientSecret], {
      configHome,
      command: [Deno.execPath(), "run", "--no-prompt", "--allow-net=127.0.0.1", FIXTURE],
    });
    const url = await cli.authorizationUrl();
    assert.equal((await actAsUser(url)).status, 200);
    const out = await cli.output();
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stderr.split("\n");
    assert.equal(lines[0], `Open this URL in your browser to log in to ${provider.origin}:`);
    assert.equal(lines[1], url);
    assert.match(out.stderr, /^Note: could not open a browser \(.+\); open the URL above$/m);
    const result = JSON.parse(out.stdout);
    assert.equal(result.login, "octocat");
    assert.equal(result.flow, "web");
    assert.equal(result.browser.opened, false);
    assert.equal(typeof result.browser.reason, "string");
  });
});
