/**
 * Threat 10: a malicious MCP server or resource metadata (`mcp-proxy`, a
 * login by a resource's URL). Metadata that names another resource, an
 * authorization server or endpoint off https, and a redirect to another
 * origin must never get the user's token or even a login; a server that
 * asks for more scopes forever gets a bounded number of logins.
 */
import assert from "node:assert/strict";
import { tempDir } from "../helpers/env.ts";
import { runMcpClient, serveMcp, toolsAnswer } from "../helpers/mcp.ts";

/** A private directory for one client run, removed after. */
async function withTmp<T>(work: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = await tempDir("mcp");
  try {
    return await work(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** The paths of the authorization server's endpoints a run reached. */
const AUTH_PATHS = ["/register", "/authorize", "/token"];

Deno.test("attack: resource metadata names another resource (its own server) → no registration, authorization or token request; one line says so", async () => {
  await using server = serveMcp({
    resourceMetadata: (origin) => ({
      resource: "https://evil.example/mcp",
      authorization_servers: [origin],
    }),
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  assert.deepEqual(server.requests.filter((r) => AUTH_PATHS.includes(r.path)), []);
  assert.deepEqual(run.proxyLines, [
    `Error: The metadata of ${server.url} names another resource (https://evil.example/mcp): refusing to send it a token`,
  ]);
});

Deno.test("attack: resource metadata names an http:// authorization server off this machine → refused before any request to it", async () => {
  await using server = serveMcp({
    resourceMetadata: (origin) => ({
      resource: `${origin}/mcp`,
      authorization_servers: ["http://auth.evil.example"],
    }),
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  assert.deepEqual(run.proxyLines, [
    `Error: The metadata of ${server.url} names an authorization server that is not https:// (http://auth.evil.example)`,
  ]);
  assert.deepEqual(server.requests.filter((r) => r.path.includes("authorization-server")), []);
});

Deno.test("attack: authorization server metadata with an http:// endpoint off this machine → no registration and no browser; one line", async () => {
  await using server = serveMcp({
    serverMetadata: (origin) => ({
      issuer: origin,
      authorization_endpoint: "http://evil.example/authorize",
      token_endpoint: `${origin}/token`,
      registration_endpoint: `${origin}/register`,
      code_challenge_methods_supported: ["S256"],
    }),
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  assert.deepEqual(server.requests.filter((r) => AUTH_PATHS.includes(r.path)), []);
  assert.deepEqual(run.proxyLines, [
    `Error: The metadata of ${server.origin} has an invalid authorization_endpoint (https:// needed)`,
  ]);
});

Deno.test("attack: the MCP endpoint redirects to another origin after the login → that origin never gets the token", async () => {
  await using elsewhere = serveMcp();
  await using server = serveMcp({
    mcp: (rpc) =>
      rpc.method === "tools/list" ? Response.redirect(`${elsewhere.origin}/mcp`, 307) : undefined,
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  // The resource itself got the token (the login worked) …
  assert.ok(server.requests.some((r) => r.authorization === "Bearer tok-secret-1"));
  // … and the other origin no request at all, with or without it.
  assert.deepEqual(elsewhere.requests, []);
});

Deno.test("attack: a server that asks for one more scope on every request → two step-ups per request, then its 403 is the answer", async () => {
  let asked = 0;
  await using server = serveMcp({
    mcp: (rpc) => {
      if (rpc.method !== "tools/call") return toolsAnswer(rpc);
      asked++;
      return new Response(null, {
        status: 403,
        headers: {
          "www-authenticate": `Bearer error="insufficient_scope", scope="more:${asked}"`,
        },
      });
    },
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  const authorizations = server.requests.filter((r) => r.path === "/authorize");
  // The first login, then two step-ups for the one tools/call: never a third.
  assert.deepEqual(authorizations.map((r) => r.fields.scope), [
    undefined,
    "more:1",
    "more:1 more:2",
  ]);
  assert.equal(server.requests.filter((r) => r.rpc === "tools/call").length, 3);
});
