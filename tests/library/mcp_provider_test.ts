/**
 * The `./mcp` export's `mcpAuthProvider` under a real SDK `Client` over
 * `StreamableHTTPClientTransport({ authProvider })` against the built-in
 * protected MCP server (`startDevMcp`): tests/fixtures/mcp_app.ts is an
 * app's MCP client, run as its own Deno process with the app's documented
 * flags (`appPermissionFlags`). The test plays the user: it fetches each
 * authorization URL the app prints (the server approves at once).
 */
import assert from "node:assert/strict";
import { type DevMcp, startDevMcp } from "../../lib/testing.ts";
import { filesContaining, MAIN, ROOT, startKeyring, tempConfig } from "../helpers.ts";
import { mcpAppOptions as appOptions, runMcpApp as runApp } from "../helpers/mcp.ts";

const count = (mcp: DevMcp, path: string) => mcp.requests.filter((r) => r.path === path).length;
const refreshes = (mcp: DevMcp) =>
  mcp.requests.filter((r) => r.path === "/token" && r.fields.grant_type === "refresh_token");

Deno.test("mcpAuthProvider: an SDK Client logs in once; a second process of the app uses the stored token; it is the app's (its keyring service and config directory), never loopauth's", async () => {
  await using keyring = await startKeyring();
  await using config = await tempConfig();
  const mcp = startDevMcp();
  try {
    const options = appOptions("my-agent", config.home, keyring.env);
    const first = await runApp(mcp.url, ["echo"], options);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.results, [{ tool: "echo", content: [{ type: "text", text: "echo" }] }]);
    assert.equal(first.approved, 1);
    // No status line by default (not even its one plain line on a pipe): the app owns its terminal.
    assert.doesNotMatch(first.stderr, /Waiting for/);
    assert.equal(count(mcp, "/authorize"), 1);
    assert.equal(count(mcp, "/register"), 1);
    const authorize = mcp.requests.find((r) => r.path === "/authorize")!;
    assert.equal(authorize.fields.resource, mcp.url);

    const before = mcp.requests.length;
    const second = await runApp(mcp.url, ["echo"], options);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.approved, 0);
    assert.deepEqual(second.results.map((r) => r.tool), ["echo"]);
    // Nothing but MCP requests, each accepted: no discovery, registration, login or refresh.
    const later = mcp.requests.slice(before);
    assert.deepEqual([...new Set(later.map((r) => r.path))], ["/mcp"]);
    assert.ok(later.every((r) => r.status !== 401), JSON.stringify(later));

    // The app's keyring item and config directory; loopauth's have nothing.
    const item = await keyring.lookup(mcp.url, "user", "my-agent");
    assert.ok(item, "no keyring item under the service my-agent");
    const token = JSON.parse(item).accessToken;
    assert.equal(await keyring.lookup(mcp.url, "user", "loopauth"), undefined);
    const stored = JSON.parse(await Deno.readTextFile(`${config.home}/my-agent/config.json`));
    assert.equal(stored.resources[mcp.url].storage, "keyring");
    assert.equal(stored.resources[mcp.url].authorizationServer, mcp.origin);
    // The app's registration, under its name (the name the consent page shows).
    assert.deepEqual(Object.keys(stored.registrations), [`${mcp.origin} my-agent`]);
    await assert.rejects(Deno.stat(`${config.home}/loopauth`), Deno.errors.NotFound);
    assert.deepEqual(await filesContaining(config.home, token), []);
  } finally {
    await mcp.close();
  }
});

Deno.test("mcpAuthProvider: an expiring token is refreshed once under the lock, with the resource; the next process uses the refreshed one", async () => {
  await using config = await tempConfig();
  // The login's token lives 30 s, within the minute's margin: the next request refreshes it.
  const mcp = startDevMcp({ accessTtl: 30, refreshedTtl: 3600 });
  try {
    const options = appOptions("my-agent", config.home);
    const first = await runApp(mcp.url, ["echo", "echo"], options);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.results.map((r) => r.tool), ["echo", "echo"]);
    assert.equal(count(mcp, "/authorize"), 1);
    const refreshed = refreshes(mcp);
    assert.deepEqual(refreshed.map((r) => [r.status, r.fields.resource]), [[200, mcp.url]]);
    assert.ok(mcp.requests.every((r) => r.status !== 401), "no request was refused");

    const second = await runApp(mcp.url, ["echo"], options);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(count(mcp, "/authorize"), 1);
    assert.equal(refreshes(mcp).length, 1);
  } finally {
    await mcp.close();
  }
});

Deno.test("mcpAuthProvider: a token the server refuses before its expiry is refreshed under the lock (no login); that call ends with UnauthorizedError once, the next succeeds", async () => {
  await using config = await tempConfig();
  const mcp = startDevMcp();
  try {
    const options = appOptions("my-agent", config.home);
    // `expire` makes every access token invalid: the following echo is refused (401).
    const run = await runApp(mcp.url, ["expire", "echo"], options);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.results.map((r) => r.tool), ["expire", "echo"]);
    assert.match(run.stderr, /^renewed: echo$/m);
    assert.equal(run.approved, 1);
    assert.equal(count(mcp, "/authorize"), 1);
    assert.deepEqual(refreshes(mcp).map((r) => r.status), [200]);
    assert.deepEqual(
      mcp.requests.filter((r) => r.tool === "echo").map((r) => r.status),
      [401, 200],
    );
  } finally {
    await mcp.close();
  }
});

Deno.test("mcpAuthProvider: a 403 insufficient_scope is a step-up login for the union of the scopes; a scope the server never grants ends the call after that one login", async () => {
  await using config = await tempConfig();
  const mcp = startDevMcp();
  try {
    const options = appOptions("my-agent", config.home);
    // The first login asks for the resource's scopes_supported (mcp:tools mcp:write).
    const write = await runApp(mcp.url, ["write"], options);
    assert.equal(write.code, 0, write.stderr);
    assert.deepEqual(write.results.map((r) => r.tool), ["write"]);
    const scopes = () =>
      mcp.requests.filter((r) => r.path === "/authorize").map((r) => r.fields.scope);
    assert.deepEqual(scopes(), ["mcp:tools mcp:write"]);

    // `forbidden` needs mcp:forbidden, never granted: one step-up login for the union, the
    // call made again, then the SDK gives up on the same 403 (no second step-up).
    const never = await runApp(mcp.url, ["forbidden"], options);
    assert.equal(never.code, 1, never.stderr);
    assert.match(never.stderr, /^renewed: forbidden$/m);
    assert.match(never.stderr, /^my-agent: .*403/m);
    assert.equal(never.approved, 1);
    assert.deepEqual(scopes(), ["mcp:tools mcp:write", "mcp:tools mcp:write mcp:forbidden"]);
    assert.deepEqual(
      mcp.requests.filter((r) => r.tool === "forbidden").map((r) => r.status),
      [403, 403],
    );
    // Both logins used the one registration.
    assert.equal(count(mcp, "/register"), 1);
  } finally {
    await mcp.close();
  }
});

Deno.test("lib/mod.ts loads nothing of the MCP SDK; lib/mcp.ts only its types", async () => {
  interface Dependency {
    specifier: string;
    code?: { specifier: string };
    type?: { specifier: string };
  }
  const info = async (path: string) => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", path],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: { specifier: string; dependencies?: Dependency[] }[];
    };
  };
  const sdk = (specifier: string) => specifier.includes("@modelcontextprotocol/sdk");
  const mod = await info(`${ROOT}/lib/mod.ts`);
  assert.deepEqual(
    mod.modules.map((m) => m.specifier).filter(sdk),
    [],
    "lib/mod.ts reaches the SDK",
  );
  const main = await info(MAIN);
  assert.deepEqual(main.modules.filter((m) => m.specifier.endsWith("/lib/mcp.ts")), []);
  const deps = (await info(`${ROOT}/lib/mcp.ts`)).modules.flatMap((m) => m.dependencies ?? []);
  assert.deepEqual(deps.filter((d) => d.code && sdk(d.code.specifier)), [], "a runtime import");
  assert.ok(deps.some((d) => d.type && sdk(d.type.specifier)), "the SDK's types are imported");
});
