/**
 * The two screens of a login in a real browser: Debian's Chromium, driven
 * by playwright-core, on the built-in provider's consent page and then on
 * the callback page. Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type DevProvider, startDevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { Cli, loginArgs, secretEnv, tempConfig, waitUntil } from "../helpers.ts";

const DRIVER = fileURLToPath(new URL("../browser_driver.mjs", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts", import.meta.url));

interface Seen {
  consent: string;
  status: number;
  title: string;
  text: string;
  lang: string;
  landmarks: number;
  csp: string;
  consoleErrors: string[];
  failedRequests: string[];
}

async function drive(
  url: string,
  decision: "authorize" | "cancel",
  scheme: "light" | "dark",
): Promise<Seen> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("node", { args: [DRIVER, url, decision, ARTIFACTS, scheme] })
      .output();
  } catch (error) {
    throw new Error(`Cannot start node for the browser driver (${error}): install Node.js`);
  }
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new Error(
      `The browser driver failed; run deno task setup (Debian chromium + npm playwright-core in .tools/):\n${stderr}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/**
 * A login driven in Chromium: at the URL the CLI printed, or (`start`) at the
 * one-time start URL the CLI hands to the browser opener (a stand-in
 * `$BROWSER` records it), which redirects to the consent page.
 */
async function browserLogin(
  decision: "authorize" | "cancel",
  scheme: "light" | "dark",
  via: "printed" | "start" = "printed",
) {
  const provider: DevProvider = startDevProvider();
  await using config = await tempConfig();
  try {
    const seenUrl = `${config.home}/seen-url`;
    const opener = `${config.home}/browser.sh`;
    await Deno.writeTextFile(
      opener,
      `#!/bin/sh\numask 077\nprintf '%s' "$1" > "${seenUrl}.tmp"\nmv "${seenUrl}.tmp" "${seenUrl}"\n`,
      { mode: 0o700 },
    );
    await Deno.chmod(opener, 0o700);
    const cli = via === "printed"
      ? new Cli(loginArgs(provider), { configHome: config.home, env: secretEnv(provider) })
      : new Cli(loginArgs(provider).filter((a) => a !== "--no-browser"), {
        configHome: config.home,
        env: secretEnv(provider, { BROWSER: opener }),
      });
    const printed = await cli.authorizationUrl();
    let url = printed;
    if (via === "start") {
      await waitUntil(async () => await Deno.stat(seenUrl).then(() => true, () => false), {
        what: "the browser opener to run",
      });
      url = await Deno.readTextFile(seenUrl);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/start\/[0-9a-f]{32}$/);
    }
    const seen = await drive(url, decision, scheme);
    return { seen, provider, ...(await cli.output()) };
  } finally {
    await provider.close();
  }
}

function assertCleanPage(seen: Seen) {
  assert.deepEqual(seen.consoleErrors, [], "no console errors");
  assert.deepEqual(seen.failedRequests, [], "no failed or blocked requests");
  assert.equal(seen.lang, "en");
  assert.equal(seen.landmarks, 2, "a main landmark and a heading");
  assert.match(seen.csp, /^default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'/);
}

Deno.test("browser: consent page → Authorize → success page naming host and account", async () => {
  // Light: the way the browser opener goes (the one-time start URL); dark: the printed URL.
  for (const [scheme, via] of [["light", "start"], ["dark", "printed"]] as const) {
    const { seen, provider, code, stdout } = await browserLogin("authorize", scheme, via);
    assert.match(seen.consent, /loopauth-dev wants to access your account octocat/);
    assert.equal(seen.status, 200);
    assert.equal(seen.title, `Logged in to ${provider.origin} as octocat · loopauth`);
    assert.match(seen.text, new RegExp(`Logged in to ${provider.origin} as octocat`));
    assert.match(seen.text, /You can close this tab and return to the terminal/);
    assertCleanPage(seen);
    assert.equal(code, 0);
    assert.equal(stdout, `Logged in to ${provider.origin} as octocat\n`);
  }
});

Deno.test("browser: consent page → Cancel → denied page; the CLI exits 4", async () => {
  const { seen, code, stderr } = await browserLogin("cancel", "light");
  assert.equal(seen.status, 200);
  assert.match(seen.text, /Access denied/);
  assert.match(seen.text, /Nothing was stored/);
  assertCleanPage(seen);
  assert.equal(code, EXIT_CODES.access_denied);
  assert.match(stderr, /Error: Access was denied in the browser/);
});
