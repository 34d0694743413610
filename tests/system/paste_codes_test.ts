/**
 * Issue 30, item 5: in a real terminal (tmux), a default login (every route,
 * no flow flag) gets the device code, and then a typo, pasted into its
 * paste-back prompt. Each is explained, says which code goes where, the
 * callback port stays open and the device route goes on to log in.
 */
import assert from "node:assert/strict";
import { approveDeviceCode } from "../../lib/dev/provider.ts";
import { isListening, providerLoginArgs, secretEnv, Tmux, withProvider } from "../helpers.ts";

Deno.test("a pasted device code or typo is explained and the wait goes on; the device route still logs in", async () => {
  await withProvider(async (provider, configHome) => {
    await using tmux = await Tmux.start(providerLoginArgs(provider), {
      configHome,
      env: secretEnv(provider),
    });
    const [, userCode] = await tmux.waitFor(/one-time code: ([A-Z]{4}-[A-Z]{4})/);
    const [, port] = await tmux.waitFor(
      /paste the address it ends up at \(http:\/\/127\.0\.0\.1:(\d+)\/callback\?…\)/,
    );
    const exchanges = () =>
      provider.requests.filter((r) =>
        r.path === "/login/oauth/access_token" &&
        new URLSearchParams(r.body).get("grant_type") !==
          "urn:ietf:params:oauth:grant-type:device_code"
      ).length;

    // The device code, where the browser's address belongs: never sent as a code.
    await tmux.typeLine(userCode);
    await tmux.waitFor(
      new RegExp(
        `Not accepted: That is the device code: type it into the browser's device page, not here; here goes the address the browser ends up at after you approve \\(http://127\\.0\\.0\\.1:${port}/callback\\?code=…\\), or only its code`,
      ),
    );
    assert.equal(exchanges(), 0, "the device code was not exchanged as an authorization code");
    assert.equal(await isListening(Number(port)), true, "still waiting");

    // A typo: the server refuses it, the wait goes on.
    await tmux.typeLine("notacode123");
    await tmux.waitFor(
      /Not accepted: Code refused: The server says it is mistyped, expired or already used: .*the login still waits/,
    );
    assert.equal(exchanges(), 1, "the typo was tried once");
    assert.equal(await isListening(Number(port)), true, "still waiting after the typo");
    assert.doesNotMatch(await tmux.screen(), /\[exit \d+\]/);

    // The device route was never ended by the pastes.
    await approveDeviceCode(provider.origin, userCode);
    const done = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
    assert.match(done, /\[exit 0\]/, done);
    assert.match(done, /Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat/);
    assert.equal(await isListening(Number(port)), false);
  }, { autoApprove: false, deviceInterval: 0.2 });
});
