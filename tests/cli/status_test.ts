/**
 * `status` is not optimistic (issue 30): a refresh token the server refuses
 * is reported with what to run and exit 13, an unreachable host is exit 7
 * (gh's `auth status` fails on both), and a refresh token that works is
 * renewed (and the new pair stored) to know.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { startDevProvider } from "../../lib/dev/provider.ts";
import {
  loginWith,
  runCli,
  storedSecrets,
  tempConfig,
  tokenRequests,
  waitUntil,
  withProvider,
} from "../helpers.ts";

const EXPIRING = { expiringTokens: { accessTtl: 3, refreshTtl: 3600 } };

Deno.test("status: a refresh token the server refuses is expired, exit 13, with the command to run", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginWith(provider, { configHome }, "--storage", "file")).code, 0);
    const { accessToken, expiresAt } = await storedSecrets(configHome, provider.origin);
    // The user revokes the app's grant: its access and refresh tokens are gone.
    const revoked = await fetch(
      `${provider.origin}/api/v3/applications/${provider.clientId}/grant`,
      {
        method: "DELETE",
        headers: {
          authorization: `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
        },
        body: JSON.stringify({ access_token: accessToken }),
      },
    );
    await revoked.body?.cancel();
    assert.equal(revoked.status, 204);
    await waitUntil(() => Date.now() > Date.parse(expiresAt!), {
      what: "the stored access token to expire",
    });
    // Offline nothing is asked: it still looks renewable.
    const offline = await runCli(["status", "--offline"], { configHome });
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /^ {2}octocat \(active\): refreshable$/m);

    const status = await runCli(["status"], { configHome });
    assert.equal(status.code, EXIT_CODES.session_expired, status.stderr);
    assert.match(
      status.stdout,
      /^ {2}octocat \(active\): expired \(the server refused its refresh token\)$/m,
    );
    assert.equal(
      status.stderr,
      `Error: The token of octocat on ${provider.origin} is expired: run loopauth login --hostname ${provider.origin}`,
    );
    assert.equal(tokenRequests(provider, "refresh_token").length, 1, "one refresh was tried");
  }, EXPIRING);
});

Deno.test("status: an expired access token with a working refresh token is renewed and valid, exit 0", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginWith(provider, { configHome }, "--storage", "file")).code, 0);
    const before = await storedSecrets(configHome, provider.origin);
    await waitUntil(() => Date.now() > Date.parse(before.expiresAt!), {
      what: "the stored access token to expire",
    });
    const status = await runCli(["status", "--json"], { configHome });
    assert.equal(status.code, 0, status.stderr);
    const [account] = JSON.parse(status.stdout).hosts[0].accounts;
    assert.equal(account.state, "valid");
    const after = await storedSecrets(configHome, provider.origin);
    assert.notEqual(after.accessToken, before.accessToken, "the renewed pair was stored");
    assert.equal(account.tokenExpiresAt, after.expiresAt);
    assert.equal(tokenRequests(provider, "refresh_token").length, 1, "one refresh");
  }, EXPIRING);
});

Deno.test("status: a host that does not answer is exit 7 with one line, not a success", async () => {
  const provider = startDevProvider({ autoApprove: true });
  await using config = await tempConfig();
  let closed = false;
  try {
    const configHome = config.home;
    assert.equal((await loginWith(provider, { configHome }, "--storage", "file")).code, 0);
    await provider.close();
    closed = true;
    const status = await runCli(["status"], { configHome });
    assert.equal(status.code, EXIT_CODES.network, status.stderr);
    assert.match(status.stdout, /^ {2}octocat \(active\): unreachable \(/m);
    assert.match(
      status.stderr,
      new RegExp(
        `^Error: Could not check the token of octocat on ${
          provider.origin.replaceAll(".", "\\.")
        }: cannot reach [^\\n]+$`,
      ),
    );
    // --offline asks nothing and succeeds.
    assert.equal((await runCli(["status", "--offline"], { configHome })).code, 0);
  } finally {
    if (!closed) await provider.close();
  }
});
