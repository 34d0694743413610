/**
 * `logout --all` through the real CLI leaves nothing of the user's: a host's
 * account, every resource account (`login --resource`, revoked as
 * `logout --resource` does) and every stored client registration with its
 * secret, from the keyring and the config file; a resource whose server is
 * down is still forgotten, and the failure is one line (exit 9).
 */
import assert from "node:assert/strict";
import { startDevMcp } from "../../lib/dev/mcp.ts";
import { startDevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { Cli, loginWith, runCli, startKeyring, tempConfig, waitUntil } from "../helpers.ts";

/** The authorization URLs a `login --resource` printed (no display here: it prints them). */
const AUTHORIZE = /^\s*http:\/\/127\.0\.0\.1:\d+\/authorize\?/;

/** `login --resource URL` as typed, played to its end: the printed URL fetched (the server approves at once). */
async function loginResource(
  url: string,
  options: { configHome: string; env?: Record<string, string> },
) {
  const cli = new Cli(["login", "--resource", url], options);
  await waitUntil(() => cli.stderrLines.some((l) => AUTHORIZE.test(l)), {
    what: "authorization URL",
  });
  const response = await fetch(cli.stderrLines.find((l) => AUTHORIZE.test(l))!.trim());
  await response.body?.cancel();
  return await cli.output();
}

/**
 * The config file's sections, the tokens file's hosts (none when there is no file), and the
 * config directory's other files but the locks and the flow memory (which hold no secret).
 */
async function leftovers(dir: string) {
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  const tokens = await Deno.readTextFile(`${dir}/tokens.json`).then(
    (text) => JSON.parse(text).hosts,
    () => ({}),
  );
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) files.push(entry.name);
  const others = ["config.json", "tokens.json", "lock", "flows.json"];
  const left = files.filter((name) => !others.includes(name) && !name.endsWith(".lock"));
  return { config, tokens, files: left.sort() };
}

/** Asserts that nothing of any login is left in `dir`: no account, resource, registration, token or file. */
async function assertNothingLeft(dir: string): Promise<void> {
  const after = await leftovers(dir);
  assert.deepEqual(after.config.hosts, {});
  assert.deepEqual(after.config.resources ?? {}, {});
  assert.deepEqual(after.config.registrations ?? {}, {});
  assert.deepEqual(after.tokens, {});
  assert.deepEqual(after.files, []);
}

Deno.test("logout --all: a host's account, a resource with a confidential registration and one with a public registration: nothing left in the keyring nor the config file, each named", async () => {
  await using keyring = await startKeyring();
  await using config = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  const confidential = startDevMcp({ confidentialClients: true });
  const open = startDevMcp();
  try {
    const options = { configHome: config.home, env: keyring.env };
    const login = await loginWith(provider, options);
    assert.equal(login.code, 0, login.stderr);
    for (const mcp of [confidential, open]) {
      const out = await loginResource(mcp.url, options);
      assert.equal(out.code, 0, out.stderr);
    }
    // Four items: the account's token, two resource tokens, the confidential client's secret.
    assert.equal((await keyring.items()).length, 4, (await keyring.items()).join("\n"));
    const before = await leftovers(config.dir);
    assert.equal(Object.keys(before.config.registrations).length, 2);
    assert.equal(before.config.registrations[`${confidential.origin} `].storage, "keyring");
    assert.equal(before.config.registrations[`${open.origin} `].storage, undefined);

    const out = await runCli(["logout", "--all"], options);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout.trimEnd().split("\n"), [
      `Logged out of ${provider.origin} (octocat); the token was revoked on the server`,
      `Logged out of ${confidential.url}; the token was revoked on the server`,
      `Logged out of ${open.url}; the token was revoked on the server`,
    ]);
    assert.equal(out.stderr, "");

    assert.deepEqual(await keyring.items(), []);
    await assertNothingLeft(config.dir);
    // Revoked where each was issued: the account's token, and each resource's access and refresh
    // tokens, the confidential client authenticated (RFC 7009 §2.1), the public one by its id.
    assert.deepEqual(provider.activeTokens(), []);
    for (const [mcp, auth] of [[confidential, "client_secret_basic"], [open, "none"]] as const) {
      assert.deepEqual(
        mcp.requests.filter((r) => r.path === "/revoke").map((r) => [r.status, r.clientAuth]),
        [[200, auth], [200, auth]],
      );
    }

    const again = await runCli(["logout", "--all"], options);
    assert.equal(again.code, EXIT_CODES.not_logged_in);
    assert.equal(again.stdout, "");
    assert.equal(
      again.stderr,
      "Error: Not logged in to any host or resource: nothing to log out of",
    );
  } finally {
    await provider.close();
    await confidential.close();
    await open.close();
  }
});

Deno.test("logout --all: a resource whose authorization server is down is still forgotten; one line names it, exit 9", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider({ autoApprove: true });
  const mcp = startDevMcp({ confidentialClients: true });
  try {
    const options = { configHome: config.home, env: { LOOPAUTH_STORAGE: "file" } };
    const login = await loginWith(provider, options);
    assert.equal(login.code, 0, login.stderr);
    const resource = await loginResource(mcp.url, options);
    assert.equal(resource.code, 0, resource.stderr);
    // Two accounts' tokens and the registration's secret in the file.
    const tokens = (await leftovers(config.dir)).tokens;
    assert.equal(Object.keys(tokens).length, 3, JSON.stringify(Object.keys(tokens)));
    await mcp.close();

    const out = await runCli(["logout", "--all"], options);
    assert.equal(out.code, EXIT_CODES.revoke_failed, out.stderr);
    const lines = out.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, out.stderr);
    // The reason is the system's (connection refused): what is around it is loopauth's.
    const prefix = `Error: Removed the local tokens, but could not revoke ${mcp.url} (`;
    const suffix = `) on the server: they may still be valid, revoke them by hand at ${mcp.origin}`;
    assert.ok(lines[0].startsWith(prefix) && lines[0].endsWith(suffix), lines[0]);
    await assertNothingLeft(config.dir);
    assert.deepEqual(provider.activeTokens(), []);
  } finally {
    await provider.close();
    await mcp.close().catch(() => {});
  }
});

Deno.test("logout --all: a registration no account uses (a login that did not finish) is forgotten and named; logout --all --hostname leaves it", async () => {
  await using config = await tempConfig();
  const issuer = "https://auth.example.com";
  await Deno.mkdir(config.dir, { recursive: true, mode: 0o700 });
  const write = () =>
    Deno.writeTextFile(
      `${config.dir}/config.json`,
      JSON.stringify({
        version: 1,
        hosts: {},
        registrations: {
          [`${issuer} `]: { clientId: "client-1", redirectUri: "http://127.0.0.1/callback" },
        },
      }),
      { mode: 0o600 },
    );
  await write();
  const options = { configHome: config.home };
  const host = await runCli(["logout", "--all", "--hostname", "github.com"], options);
  assert.equal(host.code, EXIT_CODES.not_logged_in);
  assert.equal(host.stderr, "Error: Not logged in to github.com: nothing to log out of");
  assert.equal(
    (await leftovers(config.dir)).config.registrations[`${issuer} `].clientId,
    "client-1",
  );

  const out = await runCli(["logout", "--all"], options);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, `Forgot the client client-1 registered at ${issuer}\n`);
  assert.deepEqual((await leftovers(config.dir)).config.registrations, {});
  const none = await runCli(["logout", "--all", "--json"], options);
  assert.equal(none.code, EXIT_CODES.not_logged_in);

  await write();
  const json = await runCli(["logout", "--all", "--json"], options);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), [{ registration: issuer, clientId: "client-1" }]);
});
