/**
 * Discovery of a resource login (MCP authorization 2025-11-25): the
 * `WWW-Authenticate` challenge, RFC 9728 resource metadata in the spec's
 * order, RFC 8414 / OpenID Connect metadata with path insertion, and the
 * 2025-03-26 fallbacks; against servers on 127.0.0.1 that count what they
 * were asked.
 */
import assert from "node:assert/strict";
import { parseBearerChallenge } from "../../lib/providers/www_authenticate.ts";
import { discoverResource } from "../../lib/providers/resource_metadata.ts";
import {
  discoverAuthorizationServer,
  legacyAuthorizationServer,
} from "../../lib/providers/authorization_server.ts";
import { canonicalResource } from "../../lib/providers/resource_url.ts";
import type { LoopauthError } from "../../lib/core/errors.ts";

/** A server on 127.0.0.1 answering JSON documents by path; every path asked is kept. */
function serveDocuments(documents: (origin: string) => Record<string, unknown>) {
  const asked: string[] = [];
  let origin = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    asked.push(path);
    const document = documents(origin)[path];
    return document === undefined
      ? new Response("not found", { status: 404 })
      : Response.json(document);
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    asked,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A metadata document of an authorization server at `issuer`. */
function serverDocument(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    code_challenge_methods_supported: ["S256"],
    ...extra,
  };
}

Deno.test("challenge: resource_metadata, scope and error of the Bearer challenge among others", () => {
  assert.deepEqual(
    parseBearerChallenge(
      'Basic realm="a, b", Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp"',
    ),
    {
      error: "insufficient_scope",
      scope: "files:read files:write",
      resourceMetadata: "https://a.example/.well-known/oauth-protected-resource/mcp",
    },
  );
  assert.deepEqual(parseBearerChallenge("Bearer"), {});
  assert.deepEqual(parseBearerChallenge('Bearer scope="a\u001bb", error=invalid_token'), {
    error: "invalid_token",
  });
  assert.equal(parseBearerChallenge(null), undefined);
});

Deno.test("resource metadata: the path-based place first, the root never asked once it answered", async () => {
  await using server = serveDocuments((origin) => ({
    "/.well-known/oauth-protected-resource/mcp": {
      resource: `${origin}/mcp`,
      authorization_servers: [`${origin}/tenant1`],
      scopes_supported: ["mcp:basic"],
    },
  }));
  const metadata = await discoverResource(`${server.origin}/mcp`);
  assert.deepEqual(metadata, {
    resource: `${server.origin}/mcp`,
    authorizationServers: [`${server.origin}/tenant1`],
    scopesSupported: ["mcp:basic"],
    url: `${server.origin}/.well-known/oauth-protected-resource/mcp`,
  });
  assert.deepEqual(server.asked, ["/.well-known/oauth-protected-resource/mcp"]);
});

Deno.test("resource metadata: the challenge's URL first, then the root; the root's resource covers /mcp", async () => {
  await using server = serveDocuments((origin) => ({
    "/.well-known/oauth-protected-resource": {
      resource: origin,
      authorization_servers: [origin],
    },
  }));
  const metadata = await discoverResource(`${server.origin}/mcp`, {
    challenge: { resourceMetadata: `${server.origin}/custom/location.json` },
  });
  assert.equal(metadata?.resource, server.origin);
  assert.deepEqual(server.asked, [
    "/custom/location.json",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-protected-resource",
  ]);
  await using none = serveDocuments(() => ({}));
  assert.equal(await discoverResource(`${none.origin}/mcp`), undefined);
});

Deno.test("resource metadata: an http:// authorization server off this machine is refused", async () => {
  await using server = serveDocuments((origin) => ({
    "/.well-known/oauth-protected-resource/mcp": {
      resource: `${origin}/mcp`,
      authorization_servers: ["http://auth.example.com"],
    },
  }));
  await assert.rejects(
    discoverResource(`${server.origin}/mcp`),
    (error: LoopauthError) =>
      error.code === "oauth" &&
      error.message ===
        `The metadata of ${server.origin}/mcp names an authorization server that is not https:// (http://auth.example.com)`,
  );
});

Deno.test("canonical resource: lower-case scheme and host, no fragment or trailing slash; http only here", () => {
  assert.equal(canonicalResource("HTTP://LOCALHOST:3000/mcp/#f"), "http://localhost:3000/mcp");
  assert.throws(
    () => canonicalResource("http://mcp.example.com/mcp"),
    (error: LoopauthError) =>
      error.code === "usage" &&
      error.message ===
        "http://mcp.example.com is not https:// (http:// only for 127.0.0.1, [::1] or localhost)",
  );
});

Deno.test("authorization server: path insertion in the spec's order (RFC 8414, OIDC inserted, OIDC appended)", async () => {
  await using server = serveDocuments((origin) => ({
    "/tenant1/.well-known/openid-configuration": serverDocument(`${origin}/tenant1`),
  }));
  const found = await discoverAuthorizationServer(`${server.origin}/tenant1`);
  assert.equal(found.tokenEndpoint, `${server.origin}/tenant1/token`);
  assert.deepEqual(server.asked, [
    "/.well-known/oauth-authorization-server/tenant1",
    "/.well-known/openid-configuration/tenant1",
    "/tenant1/.well-known/openid-configuration",
  ]);
  await using root = serveDocuments((origin) => ({
    "/.well-known/openid-configuration": serverDocument(origin),
  }));
  await discoverAuthorizationServer(root.origin);
  assert.deepEqual(root.asked, [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
  ]);
});

Deno.test("authorization server: another issuer, no PKCE S256, a javascript: endpoint are refused", async () => {
  const cases: [(origin: string) => Record<string, unknown>, (origin: string) => string][] = [
    [
      () => serverDocument("https://evil.example"),
      (o) => `The metadata of ${o} is for another issuer (https://evil.example)`,
    ],
    [
      (o) => serverDocument(o, { code_challenge_methods_supported: ["plain"] }),
      (o) =>
        `${o} does not list PKCE S256 (code_challenge_methods_supported): refusing to log in without it`,
    ],
    [
      (o) => serverDocument(o, { authorization_endpoint: "javascript:alert(1)" }),
      (o) => `The metadata of ${o} has an invalid authorization_endpoint (https:// needed)`,
    ],
  ];
  for (const [document, message] of cases) {
    await using server = serveDocuments((origin) => ({
      "/.well-known/oauth-authorization-server": document(origin),
    }));
    await assert.rejects(
      discoverAuthorizationServer(server.origin),
      (error: LoopauthError) => error.code === "oauth" && error.message === message(server.origin),
    );
  }
});

Deno.test("2025-03-26: metadata at the server's root (issuer on its origin), else the default endpoints", async () => {
  await using server = serveDocuments((origin) => ({
    "/.well-known/oauth-authorization-server": serverDocument(`${origin}/oauth`),
  }));
  const found = await legacyAuthorizationServer(`${server.origin}/mcp`);
  assert.equal(found.authorizationEndpoint, `${server.origin}/oauth/authorize`);
  await using bare = serveDocuments(() => ({}));
  const defaults = await legacyAuthorizationServer(`${bare.origin}/mcp`);
  assert.deepEqual(
    [defaults.authorizationEndpoint, defaults.tokenEndpoint, defaults.registrationEndpoint],
    [`${bare.origin}/authorize`, `${bare.origin}/token`, `${bare.origin}/register`],
  );
  await using foreign = serveDocuments(() => ({
    "/.well-known/oauth-authorization-server": serverDocument("https://evil.example"),
  }));
  await assert.rejects(
    legacyAuthorizationServer(`${foreign.origin}/mcp`),
    (error: LoopauthError) =>
      error.message ===
        `The metadata of ${foreign.origin} is for another issuer (https://evil.example)`,
  );
});

Deno.test("authorization server: the device endpoint (RFC 8628) where listed and its grant not left out of grant_types_supported; checked as every endpoint", async () => {
  const device = "urn:ietf:params:oauth:grant-type:device_code";
  const cases: [Record<string, unknown>, string | undefined][] = [
    [{ device_authorization_endpoint: "/device" }, "/device"],
    [{ device_authorization_endpoint: "/device", grant_types_supported: [device] }, "/device"],
    [
      { device_authorization_endpoint: "/device", grant_types_supported: ["refresh_token"] },
      undefined,
    ],
    [{}, undefined],
  ];
  for (const [extra, expected] of cases) {
    await using server = serveDocuments((origin) => ({
      "/.well-known/oauth-authorization-server": serverDocument(origin, {
        ...extra,
        ...(extra.device_authorization_endpoint
          ? { device_authorization_endpoint: `${origin}/device` }
          : {}),
      }),
    }));
    const found = await discoverAuthorizationServer(server.origin);
    assert.equal(
      found.deviceAuthorizationEndpoint,
      expected && `${server.origin}${expected}`,
      JSON.stringify(extra),
    );
  }
  await using hostile = serveDocuments((origin) => ({
    "/.well-known/oauth-authorization-server": serverDocument(origin, {
      device_authorization_endpoint: "javascript:alert(1)",
    }),
  }));
  await assert.rejects(
    discoverAuthorizationServer(hostile.origin),
    (error: LoopauthError) =>
      error.message ===
        `The metadata of ${hostile.origin} has an invalid device_authorization_endpoint (https:// needed)`,
  );
});
