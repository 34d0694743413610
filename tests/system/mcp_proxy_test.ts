/**
 * A real SDK client (`@modelcontextprotocol/sdk` `Client`, over stdio)
 * through `loopauth mcp-proxy` against the built-in protected MCP server
 * (`dev-server --mcp`, lib/dev/mcp.ts): the headless browser login (the
 * client fetches the printed URL), tool calls, an access token that stops
 * working mid-session (refreshed, the rotated refresh token spent once), a
 * step-up for a tool's scope, and a scope the server never grants (two
 * step-ups, then one line and the call's error).
 */
import assert from "node:assert/strict";
import { startDevMcp } from "../../lib/dev/mcp.ts";
import { tempDir } from "../helpers/env.ts";
import { runMcpClient } from "../helpers/mcp.ts";

/** One client run in a private directory. */
async function run(url: string, tools: string[]) {
  const tmp = await tempDir("mcp");
  try {
    return await runMcpClient(url, { tmp, tools });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("mcp-proxy: a headless login, then tool calls with the token bound to the resource (RFC 8707 on authorize and token)", async () => {
  // The browser route alone (the device route: tests/system/mcp_device_test.ts).
  const mcp = startDevMcp({ deviceFlow: false });
  try {
    const result = await run(mcp.url, ["echo", "echo"]);
    assert.equal(result.code, 0, [...result.proxyLines, ...result.clientLines].join("\n"));
    assert.equal(result.stdout.trim().split("\n").length, 2);
    const authorize = mcp.requests.filter((r) => r.path === "/authorize");
    assert.equal(authorize.length, 1);
    assert.equal(authorize[0].fields.resource, mcp.url);
    assert.equal(authorize[0].fields.code_challenge_method, "S256");
    // Scopes from the 401 challenge (mcp:tools), not every scope the server lists.
    assert.equal(authorize[0].fields.scope, "mcp:tools");
    const token = mcp.requests.filter((r) => r.path === "/token");
    assert.deepEqual(token.map((r) => [r.fields.grant_type, r.fields.resource]), [
      ["authorization_code", mcp.url],
    ]);
    assert.deepEqual(mcp.requests.filter((r) => r.path === "/register").length, 1);
    // Nothing but JSON-RPC results on the client's stdout; no token in mcp-proxy's stderr.
    for (const line of result.stdout.trim().split("\n")) JSON.parse(line);
    assert.ok(!result.proxyLines.some((l) => /mcp_|mcpr_/.test(l)), result.proxyLines.join("\n"));
  } finally {
    await mcp.close();
  }
});

Deno.test("mcp-proxy: an access token that stops working mid-session is refreshed (resource sent), the session goes on", async () => {
  const mcp = startDevMcp();
  try {
    // `expire` makes the server forget every access token: the next call gets a 401.
    const result = await run(mcp.url, ["echo", "expire", "echo"]);
    assert.equal(result.code, 0, [...result.proxyLines, ...result.clientLines].join("\n"));
    assert.equal(mcp.requests.filter((r) => r.path === "/authorize").length, 1);
    const refreshes = mcp.requests.filter((r) =>
      r.path === "/token" && r.fields.grant_type === "refresh_token"
    );
    assert.equal(refreshes.length, 1);
    assert.equal(refreshes[0].fields.resource, mcp.url);
    assert.equal(refreshes[0].status, 200);
    const calls = mcp.requests.filter((r) => r.tool === "echo").map((r) => r.status);
    assert.deepEqual(calls, [200, 401, 200]);
  } finally {
    await mcp.close();
  }
});

Deno.test("mcp-proxy: a 403 insufficient_scope re-authorizes for the union of scopes and the call succeeds", async () => {
  const mcp = startDevMcp();
  try {
    const result = await run(mcp.url, ["write"]);
    assert.equal(result.code, 0, [...result.proxyLines, ...result.clientLines].join("\n"));
    assert.deepEqual(
      mcp.requests.filter((r) => r.path === "/authorize").map((r) => r.fields.scope),
      ["mcp:tools", "mcp:tools mcp:write"],
    );
    assert.deepEqual(mcp.requests.filter((r) => r.tool === "write").map((r) => r.status), [
      403,
      200,
    ]);
    // The step-up reuses the session's registration and its redirect URI.
    assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 1);
    const [first, second] = mcp.requests.filter((r) => r.path === "/authorize");
    assert.equal(second.fields.client_id, first.fields.client_id);
    assert.equal(second.fields.redirect_uri, first.fields.redirect_uri);
  } finally {
    await mcp.close();
  }
});

Deno.test("mcp-proxy: a scope the server never grants → two step-ups, then the call fails with one line", async () => {
  const mcp = startDevMcp();
  try {
    const result = await run(mcp.url, ["forbidden"]);
    assert.equal(result.code, 1);
    assert.equal(mcp.requests.filter((r) => r.path === "/authorize").length, 3);
    assert.deepEqual(mcp.requests.filter((r) => r.tool === "forbidden").map((r) => r.status), [
      403,
      403,
      403,
    ]);
    const errors = result.proxyLines.filter((l) => l.startsWith("Error: "));
    assert.equal(errors.length, 1, result.proxyLines.join("\n"));
    assert.match(errors[0], /^Error: Streamable HTTP error: Error POSTing to endpoint: /);
  } finally {
    await mcp.close();
  }
});
