/**
 * Confidential registrations (RFC 7591 answers with a `client_secret`)
 * through the real CLI against `startDevMcp({ confidentialClients: true, deviceFlow: false })`:
 * kept for the next process, the secret where tokens go (the keyring here,
 * never a file), replaced once when the server answers `invalid_client`,
 * replaced before use when its `client_secret_expires_at` has passed, and
 * forgotten by `logout --resource`, which revokes with the client
 * authenticated (RFC 7009 §2.1); in the agent and the encrypted file too.
 * The browser route alone (`deviceFlow: false`): its code exchange is where a
 * refused client shows; the device route's refusal is walked in
 * tests/system/mcp_failures_test.ts.
 */
import assert from "node:assert/strict";
import { type DevMcpOptions, startDevMcp } from "../../lib/dev/mcp.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { fileStore } from "../../lib/store/file.ts";
import {
  Cli,
  type CliOptions,
  filesContaining,
  passphraseFile,
  runCli,
  startAgent,
  startKeyring,
  tempConfig,
  waitUntil,
  withPassphrase,
} from "../helpers.ts";

/** The authorization URLs a `login --resource` printed (no display here: it prints them). */
const AUTHORIZE = /^\s*http:\/\/127\.0\.0\.1:\d+\/authorize\?/;

/**
 * `login --resource URL` (or `args`) as typed, played to its end: each printed URL fetched (the
 * server approves at once).
 */
async function loginResource(
  url: string,
  options: CliOptions,
  logins = 1,
  args = ["login", "--resource", url],
) {
  const cli = new Cli(args, options);
  for (let n = 1; n <= logins; n++) await fetchAuthorizationUrl(cli, n);
  const out = await cli.output();
  return { ...out, urls: authorizationUrls(cli) };
}

/**
 * What most tests here start from: a confidential-client dev MCP server (the browser
 * route alone; `mcp` changes more), a config home (file storage unless `env` says
 * otherwise), and one `login --resource` to it, done (it must succeed).
 */
async function confidentialLogin(
  { mcp: mcpOptions = {}, env = { LOOPAUTH_STORAGE: "file" } }: {
    mcp?: DevMcpOptions;
    env?: Record<string, string>;
  } = {},
) {
  const config = await tempConfig();
  const mcp = startDevMcp({ confidentialClients: true, deviceFlow: false, ...mcpOptions });
  const options = { configHome: config.home, env };
  const close = async () => {
    await mcp.close();
    await config[Symbol.asyncDispose]();
  };
  try {
    const login = await loginResource(mcp.url, options);
    assert.equal(login.code, 0, login.stderr);
    return { config, mcp, options, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** How many authorization URLs `cli` printed. */
function authorizationUrls(cli: Cli): number {
  return cli.stderrLines.filter((l) => AUTHORIZE.test(l)).length;
}

/** Waits for the `n`th authorization URL `cli` prints, and fetches it (the server approves at once). */
async function fetchAuthorizationUrl(cli: Cli, n: number): Promise<void> {
  await waitUntil(() => authorizationUrls(cli) >= n, { what: `authorization URL ${n}` });
  const line = cli.stderrLines.filter((l) => AUTHORIZE.test(l))[n - 1];
  const response = await fetch(line.trim());
  await response.body?.cancel();
}

Deno.test("login --resource: a confidential registration is reused by the next process; its secret is in the keyring, in no file", async () => {
  await using keyring = await startKeyring();
  await using setup = await confidentialLogin({
    mcp: { clientSecretTtl: 86_400 },
    env: keyring.env,
  });
  const { config, mcp, options } = setup;
  const second = await loginResource(mcp.url, options);
  assert.equal(second.code, 0, second.stderr);

  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 1);
  const ids = mcp.requests.filter((r) => r.path === "/authorize").map((r) => r.fields.client_id);
  assert.equal(ids.length, 2);
  assert.equal(ids[0], ids[1]);
  // Both code exchanges authenticated with the secret (a wrong one is a 401 invalid_client).
  const exchanges = mcp.requests.filter((r) =>
    r.path === "/token" && r.fields.grant_type === "authorization_code"
  );
  assert.deepEqual(exchanges.map((r) => r.status), [200, 200]);

  const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
  const record = stored.registrations[`${mcp.origin} `];
  assert.equal(record.clientId, ids[0]);
  assert.equal(record.storage, "keyring");
  assert.equal(record.authMethod, "client_secret_basic");
  assert.equal("clientSecret" in record, false);
  // client_secret_expires_at (a day from the registration) kept as an ISO time.
  const expires = Date.parse(record.secretExpiresAt);
  assert.ok(expires > Date.now() + 3_600_000 && expires <= Date.now() + 86_400_000, record);

  const item = await keyring.lookup(`registration ${mcp.origin}`, "client");
  assert.ok(item, "no keyring item for the registration");
  const secret = JSON.parse(item).clientSecret;
  assert.match(secret, /^mcps_\S+$/);
  assert.deepEqual(await filesContaining(config.home, secret), []);
  assert.deepEqual(await filesContaining(keyring.dir, secret), []);
});

for (const storage of ["agent", "encrypted"] as const) {
  Deno.test(`login --resource --storage ${storage}: a confidential registration is reused by the next process; its secret is in no file in plain text`, async () => {
    await using config = await tempConfig();
    const options = storage === "encrypted"
      ? withPassphrase(config.home, await passphraseFile())
      : { configHome: config.home };
    await using _agent = storage === "agent" ? await startAgent(options) : undefined;
    const mcp = startDevMcp({ confidentialClients: true, deviceFlow: false });
    try {
      const args = ["login", "--resource", mcp.url, "--storage", storage];
      for (const run of ["first", "second"]) {
        const out = await loginResource(mcp.url, options, 1, args);
        assert.equal(out.code, 0, `${run}: ${out.stderr}`);
      }
      assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 1);
      const ids = mcp.requests.filter((r) => r.path === "/authorize").map((r) =>
        r.fields.client_id
      );
      assert.equal(ids.length, 2);
      assert.equal(ids[0], ids[1]);
      // Both code exchanges authenticated with the stored secret (a wrong one is a 401).
      assert.deepEqual(
        mcp.requests.filter((r) => r.path === "/token").map((r) => r.status),
        [200, 200],
      );

      const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
      const record = stored.registrations[`${mcp.origin} `];
      assert.equal(record.clientId, ids[0]);
      assert.equal(record.storage, storage);
      assert.equal("clientSecret" in record, false);
      const [secret] = mcp.clientSecrets();
      assert.match(secret, /^mcps_\S+$/);
      // Not in config.json, nor in tokens.enc (encrypted), nor anywhere under the config home.
      assert.deepEqual(await filesContaining(config.home, secret), []);
      if (storage === "encrypted") {
        assert.ok((await Deno.stat(`${config.dir}/tokens.enc`)).size > 0);
        const passphraseDir = options.env!.LOOPAUTH_PASSPHRASE_FILE.replace(/\/[^/]+$/, "");
        assert.deepEqual(await filesContaining(passphraseDir, secret), []);
      }
    } finally {
      await mcp.close();
    }
  });
}

Deno.test("login --resource: a stored registration the server answers invalid_client is replaced by one new registration in the same login", async () => {
  await using setup = await confidentialLogin();
  const { config, mcp, options } = setup;
  const firstId = mcp.requests.find((r) => r.path === "/authorize")!.fields.client_id;
  mcp.changeClientSecrets();

  // The stored client is refused at the code exchange: one new registration, one more login.
  const second = await loginResource(mcp.url, options, 2);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.urls, 2);
  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 2);
  const exchanges = mcp.requests.filter((r) =>
    r.path === "/token" && r.fields.grant_type === "authorization_code"
  );
  assert.deepEqual(exchanges.map((r) => r.status), [200, 401, 200]);
  const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
  const newId = stored.registrations[`${mcp.origin} `].clientId;
  assert.notEqual(newId, firstId);
  assert.equal(stored.resources[mcp.url].clientId, newId);

  // The next process uses the new one: no registration.
  const third = await loginResource(mcp.url, options);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 2);
});

Deno.test("login --resource: a stored registration whose client_secret_expires_at has passed is replaced before its secret is sent", async () => {
  await using setup = await confidentialLogin({ mcp: { clientSecretTtl: 86_400 } });
  const { config, mcp, options } = setup;
  // As if a day had passed: the stored expiry is in the past.
  const path = `${config.dir}/config.json`;
  const stored = JSON.parse(await Deno.readTextFile(path));
  stored.registrations[`${mcp.origin} `].secretExpiresAt = "2000-01-01T00:00:00.000Z";
  await Deno.writeTextFile(path, JSON.stringify(stored), { mode: 0o600 });

  const second = await loginResource(mcp.url, options);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 2);
  const ids = mcp.requests.filter((r) => r.path === "/authorize").map((r) => r.fields.client_id);
  assert.notEqual(ids[1], ids[0]);
  // No request with the expired secret: every exchange succeeded.
  assert.deepEqual(
    mcp.requests.filter((r) => r.path === "/token").map((r) => r.status),
    [200, 200],
  );
});

Deno.test("logout --resource forgets the registration and its secret: the next login registers again", async () => {
  await using keyring = await startKeyring();
  await using setup = await confidentialLogin({ env: keyring.env });
  const { config, mcp, options } = setup;
  assert.ok(await keyring.lookup(`registration ${mcp.origin}`, "client"));

  const out = await runCli(["logout", "--resource", mcp.url], options);
  assert.equal(out.code, 0, out.stderr);
  const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
  assert.deepEqual(stored.registrations, {});
  assert.equal(await keyring.lookup(`registration ${mcp.origin}`, "client"), undefined);

  const again = await loginResource(mcp.url, options);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 2);
});

Deno.test("token --resource: a refresh the server refuses with invalid_client (the registration's secret changed) is exit 13 naming the login and forgets that registration; the login, run as printed, registers again and needs one consent", async () => {
  // The login's token lives 30 s: token --resource refreshes it.
  await using setup = await confidentialLogin({ mcp: { accessTtl: 30 } });
  const { config, mcp, options } = setup;
  mcp.changeClientSecrets();

  const token = await runCli(["token", "--resource", mcp.url], options);
  assert.equal(token.code, EXIT_CODES.session_expired, token.stderr);
  const hint = `loopauth login --resource ${mcp.url}`;
  assert.equal(token.stderr.trim(), `Error: Session for ${mcp.url} expired: run ${hint}`);

  // The refused client is forgotten: nothing left to reuse.
  const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
  assert.deepEqual(stored.registrations, {});

  // The hint as printed: it registers at once, so the user approves once.
  const cli = new Cli(hint.split(" ").slice(1), options);
  await fetchAuthorizationUrl(cli, 1);
  let exited = false;
  const done = cli.output().finally(() => exited = true);
  await waitUntil(() => exited || authorizationUrls(cli) > 1, { what: "the login's end" });
  if (!exited) cli.child.kill("SIGKILL");
  const again = await done;
  assert.equal(authorizationUrls(cli), 1, again.stderr);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(mcp.requests.filter((r) => r.path === "/authorize").length, 2);
  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 2);
  const after = await runCli(["token", "--resource", mcp.url], options);
  assert.equal(after.code, 0, after.stderr);
});

Deno.test("login --resource: a login whose reused registration is refused forgets only that client: the one another process stored meanwhile is kept and used", async () => {
  await using setup = await confidentialLogin();
  const { config, mcp, options } = setup;
  const path = `${config.dir}/config.json`;
  const storedId = async () =>
    JSON.parse(await Deno.readTextFile(path)).registrations[`${mcp.origin} `]?.clientId;
  const first = await storedId();

  // A reuses the stored client and waits for the user; meanwhile its secret changes.
  const a = new Cli(["login", "--resource", mcp.url], options);
  await waitUntil(() => authorizationUrls(a) >= 1, { what: "A's authorization URL" });
  mcp.changeClientSecrets();
  // B, on another port, registers a client of its own and stores it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const b = await loginResource(mcp.url, options, 1, [
    "login",
    "--resource",
    mcp.url,
    "--port",
    String(port),
  ]);
  assert.equal(b.code, 0, b.stderr);
  const second = await storedId();
  assert.notEqual(second, first);

  // A's exchange is refused: it forgets its own client, not B's, and logs in with B's.
  await fetchAuthorizationUrl(a, 1);
  await fetchAuthorizationUrl(a, 2);
  const out = await a.output();
  assert.equal(out.code, 0, out.stderr);
  assert.equal(await storedId(), second);
  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 2);
  const exchanges = mcp.requests.filter((r) =>
    r.path === "/token" && r.fields.grant_type === "authorization_code"
  );
  assert.deepEqual(exchanges.map((r) => r.status), [200, 200, 401, 200]);
  assert.deepEqual(
    mcp.requests.filter((r) => r.path === "/authorize").map((r) => r.fields.client_id),
    [first, second, first, second],
  );
});

Deno.test("login --resource: a confidential registration's secret stored by the previous release (under the issuer's own host key) is reused; logout --resource forgets it there", async () => {
  await using setup = await confidentialLogin();
  const { config, mcp, options } = setup;
  // Where the previous release kept it.
  const store = fileStore({ dir: config.dir });
  const secrets = await store.get(`registration ${mcp.origin}`, "client");
  assert.ok(secrets?.clientSecret);
  await store.set(mcp.origin, "client", secrets);
  await store.delete(`registration ${mcp.origin}`, "client");

  const again = await loginResource(mcp.url, options);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 1);
  const exchanges = mcp.requests.filter((r) =>
    r.path === "/token" && r.fields.grant_type === "authorization_code"
  );
  assert.deepEqual(exchanges.map((r) => r.status), [200, 200]);

  const out = await runCli(["logout", "--resource", mcp.url], options);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(await store.get(mcp.origin, "client"), undefined);
  assert.equal(await store.get(`registration ${mcp.origin}`, "client"), undefined);
});

Deno.test("logout --resource of a confidential registration revokes with the client authenticated (Basic): the server answers 200 to both, and refuses a revocation without the secret or by another client", async () => {
  await using setup = await confidentialLogin();
  const { config, mcp, options } = setup;
  const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
  const [{ clientId }] = Object.values(stored.registrations) as { clientId: string }[];

  // RFC 7009 §2.1: the server checks the client, so a revocation without its secret is refused.
  const bare = await fetch(`${mcp.origin}/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: "mcp_unknown", client_id: clientId }),
  });
  assert.equal(bare.status, 401);
  assert.equal((await bare.json()).error, "invalid_client");

  // Nor may another client, however well it authenticates, revoke this login's token (§2.1).
  const other = await (await fetch(`${mcp.origin}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: ["http://127.0.0.1/callback"] }),
  })).json();
  const stolen = await runCli(["token", "--resource", mcp.url], options);
  assert.equal(stolen.code, 0, stolen.stderr);
  const token = stolen.stdout.trim();
  const foreign = await fetch(`${mcp.origin}/revoke`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${btoa(`${other.client_id}:${other.client_secret}`)}`,
    },
    body: new URLSearchParams({ token }),
  });
  assert.equal(foreign.status, 400);
  assert.equal((await foreign.json()).error, "unauthorized_client");
  const still = await fetch(mcp.url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  await still.body?.cancel();
  assert.notEqual(still.status, 401, "the token still works");

  const out = await runCli(["logout", "--resource", mcp.url], options);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, `Logged out of ${mcp.url}; the token was revoked on the server\n`);
  assert.equal(out.stderr, "");
  // The refresh token, then the access token: each with the client's Basic header, no secret field.
  const revocations = mcp.requests.filter((r) => r.path === "/revoke").slice(2);
  assert.deepEqual(
    revocations.map((r) => [r.status, r.clientAuth, r.fields.client_secret]),
    [[200, "client_secret_basic", undefined], [200, "client_secret_basic", undefined]],
  );
});

Deno.test("logout --resource whose registration's secret the server no longer takes: the revocation's 401 invalid_client is one line, exit 9, and the account and registration are removed", async () => {
  await using setup = await confidentialLogin();
  const { config, mcp, options } = setup;
  mcp.changeClientSecrets();

  const out = await runCli(["logout", "--resource", mcp.url], options);
  assert.equal(out.code, EXIT_CODES.revoke_failed, out.stderr);
  assert.equal(out.stdout, "");
  assert.equal(
    out.stderr,
    `Error: Removed the local token for ${mcp.url}, but could not revoke it on the server (${mcp.origin} did not revoke the token (HTTP 401 invalid_client)): it may still be valid, revoke it at ${mcp.origin}`,
  );
  assert.deepEqual(
    mcp.requests.filter((r) => r.path === "/revoke").map((r) => [r.status, r.clientAuth]),
    [[401, "client_secret_basic"]],
  );
  const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
  assert.deepEqual(stored.resources ?? {}, {});
  assert.deepEqual(stored.registrations, {});
  const again = await runCli(["token", "--resource", mcp.url], options);
  assert.equal(again.code, EXIT_CODES.not_logged_in, again.stderr);
});
