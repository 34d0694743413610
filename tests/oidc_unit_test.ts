/**
 * The issuer provider's checks in-process: PKCE verified by the real
 * provider, id_token validation failures (nonce, aud, exp, signature, JWKS)
 * against a small local issuer with its own JWKS, and bad issuer metadata.
 */
import assert from "node:assert/strict";
import { discoverIssuer, exchangeIssuerCode } from "../lib/providers/oidc.ts";
import { serveCallback } from "../lib/flows/callback_server.ts";
import { buildAuthorizationUrl } from "../lib/flows/loopback.ts";
import { createAuthorizationSecrets } from "../lib/flows/pkce.ts";
import { LoopauthError } from "../lib/core/errors.ts";
import { actAsOidcUser, startOidcProvider } from "./oidc_helpers.ts";

Deno.test("issuer: the provider verifies PKCE (a wrong verifier is refused, the right one works)", async () => {
  await using op = await startOidcProvider();
  const issuer = await discoverIssuer(op.issuer);
  for (const right of [false, true]) {
    const secrets = await createAuthorizationSecrets();
    const server = serveCallback({ state: secrets.state, timeout: 10_000 });
    const url = buildAuthorizationUrl(issuer.metadata.authorization_endpoint!, {
      clientId: op.publicClient,
      redirectUri: server.redirectUri,
      scopes: ["openid"],
      state: secrets.state,
      codeChallenge: secrets.codeChallenge,
      extraParams: { nonce: "n-0123456789" },
    });
    await actAsOidcUser(url);
    const { params } = await server.result;
    const exchange = exchangeIssuerCode(issuer, {
      clientId: op.publicClient,
      params,
      redirectUri: server.redirectUri,
      codeVerifier: right
        ? secrets.codeVerifier
        : (await createAuthorizationSecrets()).codeVerifier,
      nonce: "n-0123456789",
    });
    if (right) assert.equal((await exchange).claims?.sub, "alice");
    else {await assert.rejects(
        exchange,
        /refused the request \(invalid_grant\).*PKCE|invalid_grant/,
      );}
  }
});

/** A minimal issuer whose token endpoint returns a chosen id_token. */
async function fakeIssuer(
  idToken: (
    base: Record<string, unknown>,
    sign: (claims: object, kid?: string) => Promise<string>,
  ) => Promise<string>,
  options: { jwks?: "ok" | "other-key" | "500" } = {},
) {
  const rsaKey = () =>
    crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    ) as Promise<CryptoKeyPair>;
  const keys = await rsaKey();
  const other = await rsaKey();
  const b64 = (data: Uint8Array | string) =>
    btoa(String.fromCharCode(...(typeof data === "string" ? new TextEncoder().encode(data) : data)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const sign = async (claims: object, kid = "k1") => {
    const input = `${b64(JSON.stringify({ alg: "RS256", kid }))}.${b64(JSON.stringify(claims))}`;
    const signature = await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      keys.privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${b64(new Uint8Array(signature))}`;
  };
  const publicJwk = await crypto.subtle.exportKey(
    "jwk",
    options.jwks === "other-key" ? other.publicKey : keys.publicKey,
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request): Promise<Response> => {
      const path = new URL(request.url).pathname;
      if (path === "/.well-known/openid-configuration") {
        return Response.json({
          issuer: origin,
          authorization_endpoint: `${origin}/auth`,
          token_endpoint: `${origin}/token`,
          jwks_uri: `${origin}/jwks`,
          scopes_supported: ["openid"],
          code_challenge_methods_supported: ["S256"],
        });
      }
      if (path === "/jwks") {
        if (options.jwks === "500") return new Response("down", { status: 500 });
        return Response.json({ keys: [{ ...publicJwk, kid: "k1", alg: "RS256", use: "sig" }] });
      }
      await request.body?.cancel();
      const now = Math.floor(Date.now() / 1000);
      const base = {
        iss: origin,
        aud: "cli",
        sub: "bob",
        iat: now,
        exp: now + 300,
        nonce: "good-nonce",
      };
      return Response.json({
        access_token: "at",
        token_type: "Bearer",
        expires_in: 300,
        id_token: await idToken(base, sign),
      });
    },
  );
  const origin: string = `http://127.0.0.1:${server.addr.port}`;
  return { origin, [Symbol.asyncDispose]: () => server.shutdown() };
}

async function exchange(origin: string) {
  const issuer = await discoverIssuer(origin);
  return await exchangeIssuerCode(issuer, {
    clientId: "cli",
    params: new URLSearchParams({ code: "c" }),
    redirectUri: "http://127.0.0.1:1/callback",
    codeVerifier: "v".repeat(43),
    nonce: "good-nonce",
  });
}

Deno.test("issuer: id_token validation (signature via JWKS, iss, aud, exp, nonce)", async (t) => {
  const cases: [
    string,
    Parameters<typeof fakeIssuer>[0],
    Parameters<typeof fakeIssuer>[1],
    RegExp | null,
  ][] = [
    ["valid", (base, sign) => sign(base), {}, null],
    [
      "wrong nonce",
      (base, sign) => sign({ ...base, nonce: "other" }),
      {},
      /id_token of .* failed validation \(unexpected ID Token nonce/,
    ],
    [
      "wrong audience",
      (base, sign) => sign({ ...base, aud: "someone-else" }),
      {},
      /id_token of .* failed validation \(unexpected JWT aud/,
    ],
    [
      "expired",
      (base, sign) => sign({ ...base, exp: Number(base.exp) - 3600, iat: Number(base.iat) - 7200 }),
      {},
      /id_token of .* failed validation .*exp/,
    ],
    [
      "wrong issuer",
      (base, sign) => sign({ ...base, iss: "http://127.0.0.1:1" }),
      {},
      /failed validation \(unexpected JWT iss/,
    ],
    [
      "signed with a key not in the JWKS",
      (base, sign) => sign(base),
      { jwks: "other-key" },
      /could not be checked against its JWKS/,
    ],
    ["unknown kid", (base, sign) => sign(base, "k2"), {}, /could not be checked against its JWKS/],
    [
      "JWKS endpoint down",
      (base, sign) => sign(base),
      { jwks: "500" },
      /could not be checked against its JWKS/,
    ],
  ];
  for (const [name, token, options, expected] of cases) {
    await t.step(name, async () => {
      await using issuer = await fakeIssuer(token, options);
      if (expected === null) {
        const { claims, tokens } = await exchange(issuer.origin);
        assert.equal(claims?.sub, "bob");
        assert.equal(tokens.accessToken, "at");
      } else {
        const error = await exchange(issuer.origin).then(() => undefined, (e) => e);
        assert.ok(error instanceof LoopauthError, String(error));
        assert.equal(error.code, "oauth");
        assert.match(error.message, expected);
        assert.ok(!error.message.includes("\n"));
      }
    });
  }
});
