import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { constantTimeEqual, createAuthorizationSecrets } from "../../lib/flows/pkce.ts";

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

Deno.test("constantTimeEqual compares content and length", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("é", "e"), false);
});
