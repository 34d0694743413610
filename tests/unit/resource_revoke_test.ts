/**
 * RFC 7009 revocation of a resource login's tokens (`resourceProvider`'s
 * `revoke`): the client authenticated as at the token endpoint (§2.1) by its
 * registration's method, the refresh token first, an empty `200` accepted,
 * and a refusal a `revoke_failed` error naming the status; against a server
 * on 127.0.0.1 that keeps what it received.
 */
import assert from "node:assert/strict";
import { resourceProvider } from "../../lib/providers/resource_provider.ts";
import type { ClientAuthMethod } from "../../lib/providers/resource_client.ts";
import { LoopauthError } from "../../lib/core/errors.ts";

/** What the revocation endpoint received: its Authorization header and its form. */
interface Received {
  authorization: string | null;
  form: Record<string, string>;
}

/** A revocation endpoint on 127.0.0.1 answering `status` with an empty body (or `error`). */
function serveRevocation(status = 200, error?: string) {
  const received: Received[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      received.push({
        authorization: request.headers.get("authorization"),
        form: Object.fromEntries(new URLSearchParams(await request.text())),
      });
      return error ? Response.json({ error }, { status }) : new Response(null, { status });
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    received,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** The provider of a resource whose authorization server is `origin`, with this client. */
function providerAt(origin: string, authMethod: ClientAuthMethod, clientSecret?: string) {
  return resourceProvider({
    resource: "http://127.0.0.1:1/mcp",
    resourceParam: "http://127.0.0.1:1/mcp",
    server: {
      issuer: origin,
      authorizationEndpoint: `${origin}/authorize`,
      tokenEndpoint: `${origin}/token`,
      revocationEndpoint: `${origin}/revoke`,
      clientIdMetadataDocumentSupported: false,
      issParameterSupported: true,
    },
    client: {
      clientId: "mcp client",
      ...(clientSecret === undefined ? {} : { clientSecret }),
      authMethod,
      source: "registered",
    },
  });
}

const TOKEN = { accessToken: "mcp_access", refreshToken: "mcpr_refresh", tokenType: "bearer" };

Deno.test("revoke: client_secret_basic sends the secret in a Basic header (RFC 6749 §2.3.1 encoding), no client field; the refresh token first", async () => {
  await using server = serveRevocation();
  await providerAt(server.origin, "client_secret_basic", "s3cret:+").revoke(
    { ...TOKEN, scopes: [] },
    { clientId: "mcp client" },
  );
  const basic = `Basic ${btoa("mcp+client:s3cret%3A%2B")}`;
  assert.deepEqual(server.received, [
    { authorization: basic, form: { token: "mcpr_refresh" } },
    { authorization: basic, form: { token: "mcp_access" } },
  ]);
});

Deno.test("revoke: client_secret_post sends client_id and client_secret in the form, no Authorization header", async () => {
  await using server = serveRevocation();
  await providerAt(server.origin, "client_secret_post", "s3cret").revoke(
    { ...TOKEN, scopes: [] },
    { clientId: "mcp client" },
  );
  assert.deepEqual(server.received.map((r) => [r.authorization, r.form]), [
    [null, { token: "mcpr_refresh", client_id: "mcp client", client_secret: "s3cret" }],
    [null, { token: "mcp_access", client_id: "mcp client", client_secret: "s3cret" }],
  ]);
});

Deno.test("revoke: a public client (none) sends its client_id alone", async () => {
  await using server = serveRevocation();
  await providerAt(server.origin, "none").revoke(
    { accessToken: "mcp_access", tokenType: "bearer", scopes: [] },
    { clientId: "mcp client" },
  );
  assert.deepEqual(server.received, [
    { authorization: null, form: { token: "mcp_access", client_id: "mcp client" } },
  ]);
});

Deno.test("revoke: a 401 invalid_client is a revoke_failed error naming the status and the code; nothing more is sent", async () => {
  await using server = serveRevocation(401, "invalid_client");
  const error = await providerAt(server.origin, "client_secret_basic", "wrong").revoke(
    { ...TOKEN, scopes: [] },
    { clientId: "mcp client" },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof LoopauthError, String(error));
  assert.equal(error.code, "revoke_failed");
  assert.equal(error.status, 401);
  assert.equal(error.oauthError, "invalid_client");
  assert.equal(
    error.message,
    `${server.origin} did not revoke the token (HTTP 401 invalid_client)`,
  );
  assert.equal(server.received.length, 1);
});
