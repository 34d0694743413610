/**
 * The stdlib peer's loopback login (stdlib_flow.py) in plain Deno, no library:
 * Deno.serve on 127.0.0.1:0 for one callback, fetch for the token exchange and
 * GET /user, the token written to a 0600 file. It checks only what the Python
 * peer checks. The bench runs it as the floor of a login on this runtime: what
 * the same flow costs in Deno before any of loopauth's work.
 *
 * Usage: deno run --allow-net=127.0.0.1 --allow-write=TOKEN_FILE deno_flow.ts
 *   ORIGIN CLIENT_ID CLIENT_SECRET TOKEN_FILE
 */
const [origin, clientId, clientSecret, tokenFile] = Deno.args;
const random = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
};
const state = random();
const verifier = random();
const digest = new Uint8Array(
  await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)),
);
const challenge = btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_")
  .replace(/=+$/, "");

const { promise: code, resolve } = Promise.withResolvers<string>();
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const url = new URL(request.url);
  const got = url.searchParams.get("code");
  if (url.pathname !== "/callback" || url.searchParams.get("state") !== state || !got) {
    return new Response(null, { status: 400 });
  }
  resolve(got);
  return new Response("<!doctype html><p>Logged in. Return to the terminal.</p>", {
    headers: { "content-type": "text/html" },
  });
});
const redirectUri = `http://127.0.0.1:${server.addr.port}/callback`;
const params = new URLSearchParams({
  client_id: clientId,
  redirect_uri: redirectUri,
  scope: "read:user",
  state,
  code_challenge: challenge,
  code_challenge_method: "S256",
  response_type: "code",
});
console.error(`${origin}/login/oauth/authorize?${params}`);
const received = await code;
await server.shutdown();

const exchange = await fetch(`${origin}/login/oauth/access_token`, {
  method: "POST",
  headers: { accept: "application/json" },
  body: new URLSearchParams({
    client_id: clientId,
    client_secret: clientSecret,
    code: received,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  }),
});
const token = (await exchange.json()).access_token;
const user = await (await fetch(`${origin}/api/v3/user`, {
  headers: { authorization: `token ${token}` },
})).json();
Deno.writeTextFileSync(tokenFile, JSON.stringify({ login: user.login, token }), { mode: 0o600 });
console.log(`Logged in as ${user.login}`);
