/**
 * The issuer provider's checks in-process: PKCE verified by the real
 * provider. (A forged id_token is an attack of the suite:
 * tests/security/server_test.ts.)
 */
import assert from "node:assert/strict";
import { discoverIssuer, exchangeIssuerCode } from "../../lib/providers/oidc.ts";
import { serveCallback } from "../../lib/flows/callback_server.ts";
import { buildAuthorizationUrl } from "../../lib/flows/loopback.ts";
import { createAuthorizationSecrets } from "../../lib/flows/pkce.ts";
import { actAsOidcUser, startOidcProvider } from "../oidc_helpers.ts";

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
