/**
 * Stored resource tokens through the real CLI against `dev-server --mcp`
 * (lib/dev/mcp.ts): a second mcp-proxy session starts with the stored
 * token (no login, no registration), `login --resource` with the private
 * keyring leaves no token byte in the config directory, `token --resource`
 * prints it (refreshed under the lock when refused), `logout --resource`
 * revokes and forgets it, and a registration is reused across processes.
 */
import assert from "node:assert/strict";
import { startDevMcp } from "../../lib/dev/mcp.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { Cli, filesContaining, runCli, startKeyring, tempConfig, tempDir } from "../helpers.ts";
import { runMcpClient } from "../helpers/mcp.ts";

/** `login --resource URL` played to its end: the printed URL fetched (the server approves at once). */
async function loginResource(
  url: string,
  options: { configHome: string; env?: Record<string, string> },
  ...extra: string[]
) {
  const cli = new Cli(["login", "--resource", url, "--no-browser", ...extra], options);
  const line = await cli.waitForLine(/^\s*http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
  const response = await fetch(line.trim());
  await response.body?.cancel();
  return await cli.output();
}

Deno.test("mcp-proxy: a second session for the same URL starts with the stored token: no login, no registration", async () => {
  const mcp = startDevMcp();
  const tmp = await tempDir("mcps");
  try {
    const home = `${tmp}/home`;
    await Deno.mkdir(home, { mode: 0o700 });
    const env = { MCP_CLIENT_CONFIG_HOME: home };
    const first = await runMcpClient(mcp.url, { tmp, tools: ["echo"], env });
    assert.equal(first.code, 0, [...first.proxyLines, ...first.clientLines].join("\n"));
    // No keyring nor agent here: the file, said in one warning.
    assert.ok(
      first.proxyLines.some((l) =>
        /^Warning: token stored in plain text at .* \(mode 0600\)/.test(l)
      ),
      first.proxyLines.join("\n"),
    );
    const count = (path: string) => mcp.requests.filter((r) => r.path === path).length;
    assert.equal(count("/authorize"), 1);
    assert.equal(count("/register"), 1);
    const before = mcp.requests.length;

    const second = await runMcpClient(mcp.url, { tmp, tools: ["echo"], env });
    assert.equal(second.code, 0, [...second.proxyLines, ...second.clientLines].join("\n"));
    const later = mcp.requests.slice(before);
    assert.deepEqual(later.filter((r) => r.path !== "/mcp").map((r) => r.path), []);
    assert.ok(later.every((r) => r.status !== 401), JSON.stringify(later));
    assert.deepEqual(later.filter((r) => r.tool === "echo").map((r) => r.status), [200]);
  } finally {
    await mcp.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("login --resource with the keyring: no token byte in the config directory; token --resource prints it; logout --resource revokes and forgets it", async () => {
  await using keyring = await startKeyring();
  await using config = await tempConfig();
  const mcp = startDevMcp();
  try {
    const options = { configHome: config.home, env: keyring.env };
    const login = await loginResource(mcp.url, options);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /^Token stored in the Secret Service keyring$/m);
    const authorize = mcp.requests.filter((r) => r.path === "/authorize");
    assert.equal(authorize.length, 1);
    assert.equal(authorize[0].fields.resource, mcp.url);

    const printed = await runCli(["token", "--resource", mcp.url], options);
    assert.equal(printed.code, 0, printed.stderr);
    const token = printed.stdout.trim();
    assert.match(token, /^\S{16,}$/);
    assert.deepEqual(await filesContaining(config.home, token), []);
    assert.deepEqual(await filesContaining(keyring.dir, token), []);
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    assert.equal(stored.resources[mcp.url].storage, "keyring");
    assert.equal(stored.resources[mcp.url].authorizationServer, mcp.origin);

    // A token valid by its expiry time is printed as stored: no request to the server.
    const requests = mcp.requests.length;
    const json = await runCli(["token", "--resource", mcp.url, "--json"], options);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).token, token);
    assert.equal(JSON.parse(json.stdout).authorizationServer, mcp.origin);
    assert.equal(mcp.requests.length, requests);

    // status lists the resource account (offline: nothing is sent to the server).
    const status = await runCli(["status", "--json", "--offline"], options);
    assert.equal(status.code, 0, status.stderr);
    const listed = JSON.parse(status.stdout);
    assert.deepEqual(listed.hosts, []);
    assert.equal(listed.resources[0].resource, mcp.url);
    assert.equal(listed.resources[0].authorizationServer, mcp.origin);
    assert.equal(listed.resources[0].source, "keyring");
    assert.deepEqual(listed.resources[0].scopes, authorize[0].fields.scope.split(" "));
    assert.equal(mcp.requests.length, requests);

    const out = await runCli(["logout", "--resource", mcp.url], options);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged out of ${mcp.url}; the token was revoked on the server\n`);
    assert.equal(mcp.requests.filter((r) => r.path === "/revoke").length, 2);
    const again = await runCli(["token", "--resource", mcp.url], options);
    assert.equal(again.code, EXIT_CODES.not_logged_in);
    assert.equal(
      again.stderr.trim(),
      `Error: Not logged in to ${mcp.url}: run loopauth login --resource ${mcp.url}`,
    );
  } finally {
    await mcp.close();
  }
});

Deno.test("login --resource: a second login to the same authorization server registers no second client (another process)", async () => {
  await using config = await tempConfig();
  const mcp = startDevMcp();
  try {
    const options = { configHome: config.home };
    const first = await loginResource(mcp.url, options, "--storage", "file");
    assert.equal(first.code, 0, first.stderr);
    const second = await loginResource(mcp.url, options, "--storage", "file");
    assert.equal(second.code, 0, second.stderr);
    assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 1);
    const ids = mcp.requests.filter((r) => r.path === "/authorize").map((r) => r.fields.client_id);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
  } finally {
    await mcp.close();
  }
});

Deno.test("token --resource: an expiring token is refreshed at its authorization server with the resource; two processes at once spend the refresh token once", async () => {
  await using config = await tempConfig();
  // The login's token lives 30 s: within the minute's margin, so token --resource refreshes it;
  // the refreshed one lives an hour, so a process that starts after the refresh uses it as is.
  const mcp = startDevMcp({ accessTtl: 30, refreshedTtl: 3600 });
  try {
    const options = { configHome: config.home };
    const login = await loginResource(mcp.url, options, "--storage", "file");
    assert.equal(login.code, 0, login.stderr);
    const [a, b] = await Promise.all([
      runCli(["token", "--resource", mcp.url], options),
      runCli(["token", "--resource", mcp.url], options),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const refreshes = mcp.requests.filter((r) =>
      r.path === "/token" && r.fields.grant_type === "refresh_token"
    );
    assert.equal(refreshes.length, 1);
    assert.equal(refreshes[0].fields.resource, mcp.url);
    assert.equal(refreshes[0].status, 200);
    assert.equal(a.stdout, b.stdout);
  } finally {
    await mcp.close();
  }
});

Deno.test("--resource with a flag it does not take, or a resource flag without it: one line, exit 2, nothing sent", async () => {
  await using config = await tempConfig();
  const options = { configHome: config.home };
  const cases: [string[], string][] = [
    [
      ["token", "--resource", "http://127.0.0.1:9/mcp", "--hostname", "github.com"],
      "Error: --resource takes no --hostname",
    ],
    [
      ["logout", "--resource", "http://127.0.0.1:9/mcp", "--all"],
      "Error: --resource takes no --all",
    ],
    [
      ["login", "--resource", "http://127.0.0.1:9/mcp", "--issuer", "https://id.example.com"],
      "Error: --resource takes no --issuer",
    ],
    [
      ["login", "--client-metadata-url", "https://app.example.com/client.json", "--client-id", "x"],
      "Error: --client-metadata-url goes with --resource URL",
    ],
  ];
  for (const [args, line] of cases) {
    const out = await runCli(args, options);
    assert.equal(out.code, EXIT_CODES.usage, out.stderr);
    assert.equal(out.stderr.trim(), line);
    assert.equal(out.stdout, "");
  }
});
