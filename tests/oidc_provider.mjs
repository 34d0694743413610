// A real, certified OpenID Provider (npm oidc-provider) on 127.0.0.1 for the
// tests, run under Node (it reads process.env and more than the tests grant
// Deno). Usage: node tests/oidc_provider.mjs
// Prints one JSON line once listening: {"issuer": "http://127.0.0.1:PORT"}.
// Clients: "native" (public, PKCE only) and "confidential"
// (client_secret_basic), both registered with the port-less
// http://127.0.0.1/callback (RFC 8252 §7.3: any port is accepted).
// devInteractions serve the sign-in (any login, any password) and consent
// pages; the tests drive them with a scripted user agent.
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(new URL("../.tools/package.json", import.meta.url));
const { default: Provider } = await import(require.resolve("oidc-provider"));

const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const grantTypes = [
  "authorization_code",
  "refresh_token",
  "urn:ietf:params:oauth:grant-type:device_code",
];
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "native",
      application_type: "native",
      token_endpoint_auth_method: "none",
      redirect_uris: ["http://127.0.0.1/callback"],
      grant_types: grantTypes,
      response_types: ["code"],
    },
    {
      client_id: "confidential",
      client_secret: "confidential-secret-0123456789",
      application_type: "native",
      token_endpoint_auth_method: "client_secret_basic",
      redirect_uris: ["http://127.0.0.1/callback"],
      grant_types: grantTypes,
      response_types: ["code"],
    },
  ],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
  },
  scopes: ["openid", "offline_access", "profile", "email"],
  claims: { openid: ["sub"], profile: ["preferred_username"], email: ["email"] },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, preferred_username: id, email: `${id}@example.com` }),
  }),
  // offline_access without prompt=consent is dropped by default: for the tests,
  // every client allowed the grant gets a refresh token.
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  ttl: { AccessToken: 3600, RefreshToken: 86400 },
  pkce: { required: () => true },
});
provider.on("server_error", (_ctx, error) => console.error(error));
server.on("request", provider.callback());
console.log(JSON.stringify({ issuer }));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
