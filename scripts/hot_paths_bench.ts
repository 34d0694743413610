/** `deno bench` of the functions on a login's path. */
import { createAuthorizationSecrets } from "../lib/flows/pkce.ts";
import { constantTimeEqual } from "../lib/core/constant_time.ts";
import { parseTokenResponse } from "../lib/providers/github.ts";
import { buildAuthorizationUrl } from "../lib/flows/loopback.ts";

const state = "x".repeat(43);
const body = JSON.stringify({
  access_token: "gho_" + "a".repeat(36),
  token_type: "bearer",
  scope: "repo,gist",
});

Deno.bench("state + PKCE verifier + S256 challenge", async () => {
  await createAuthorizationSecrets();
});

Deno.bench("authorization URL", () => {
  buildAuthorizationUrl("https://github.com/login/oauth/authorize", {
    clientId: "Iv1.abc",
    redirectUri: "http://127.0.0.1:40000/callback",
    scopes: ["read:user", "repo"],
    state,
    codeChallenge: state,
  });
});

Deno.bench("callback validation (parse + constant-time state check)", () => {
  const url = new URL(`http://127.0.0.1:40000/callback?code=abc123&state=${state}`);
  constantTimeEqual(url.searchParams.get("state")!, state);
});

Deno.bench("token response parsing", () => {
  parseTokenResponse(200, body, "github.com");
});
