import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { calculatePKCECodeChallenge } from "npm:oauth4webapi@^3";
import { createAuthorizationSecrets, s256Challenge } from "../../lib/flows/pkce.ts";

Deno.test("state and verifier are fresh base64url strings of at least 128 bits", async () => {
  const a = await createAuthorizationSecrets();
  const b = await createAuthorizationSecrets();
  for (const secrets of [a, b]) {
    assert.match(secrets.state, /^[A-Za-z0-9_-]{43,}$/); // 43 chars of base64url = 256 bits
    assert.match(secrets.codeVerifier, /^[A-Za-z0-9._~-]{43,128}$/);
  }
  assert.notEqual(a.state, b.state);
  assert.notEqual(a.codeVerifier, b.codeVerifier);
  assert.notEqual(a.state, a.codeVerifier);
});

Deno.test("the code challenge is BASE64URL(SHA-256(verifier))", async () => {
  const { codeVerifier, codeChallenge } = await createAuthorizationSecrets();
  const expected = createHash("sha256").update(codeVerifier).digest("base64url");
  assert.equal(codeChallenge, expected);
});

Deno.test("the challenge matches RFC 7636's example and oauth4webapi's for any verifier", async () => {
  assert.equal(
    await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
  for (let i = 0; i < 20; i++) {
    const { codeVerifier, codeChallenge } = await createAuthorizationSecrets();
    assert.equal(codeChallenge, await calculatePKCECodeChallenge(codeVerifier));
  }
});
