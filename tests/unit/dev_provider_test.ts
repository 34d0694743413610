import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { actAsUser, startDevProvider } from "../../lib/dev/provider.ts";
import { TEST_TMP_DIR, waitUntil } from "../helpers.ts";

const VERIFIER = "v".repeat(43);
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");

async function authorize(origin: string, query: Record<string, string>): Promise<Response> {
  const url = new URL("/login/oauth/authorize", origin);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return await fetch(url, { redirect: "manual" });
}

async function codeFor(
  provider: ReturnType<typeof startDevProvider>,
  redirectUri: string,
): Promise<string> {
  const response = await authorize(provider.origin, {
    client_id: provider.clientId,
    redirect_uri: redirectUri,
    state: "st",
    code_challenge: CHALLENGE,
    code_challenge_method: "S256",
    scope: "repo gist",
  });
  await response.body?.cancel();
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get("location")!);
  assert.equal(location.searchParams.get("state"), "st");
  return location.searchParams.get("code")!;
}

function tokenRequest(origin: string, body: Record<string, string>, accept = "application/json") {
  return fetch(`${origin}/login/oauth/access_token`, {
    method: "POST",
    headers: { Accept: accept, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body),
  });
}

Deno.test("GitHub's quirks: any loopback port, 200-with-error, JSON only with Accept, single-use codes", async () => {
  const provider = startDevProvider({ autoApprove: true });
  try {
    const redirectUri = "http://127.0.0.1:54321/callback";
    const code = await codeFor(provider, redirectUri);
    const base = {
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
      code,
      redirect_uri: redirectUri,
      code_verifier: VERIFIER,
    };
    const form = await tokenRequest(provider.origin, base, "*/*");
    assert.equal(form.status, 200);
    const formBody = new URLSearchParams(await form.text());
    assert.match(formBody.get("access_token")!, /^gho_/);
    assert.equal(formBody.get("scope"), "repo,gist");
    // The code was spent: a replay is bad_verification_code, still HTTP 200.
    const replay = await tokenRequest(provider.origin, base);
    assert.equal(replay.status, 200);
    assert.equal((await replay.json()).error, "bad_verification_code");

    const code2 = await codeFor(provider, redirectUri);
    const wrongSecret = await tokenRequest(provider.origin, {
      ...base,
      code: code2,
      client_secret: "nope",
    });
    assert.equal((await wrongSecret.json()).error, "incorrect_client_credentials");
    const code3 = await codeFor(provider, redirectUri);
    const wrongVerifier = await tokenRequest(provider.origin, {
      ...base,
      code: code3,
      code_verifier: "w".repeat(43),
    });
    assert.equal((await wrongVerifier.json()).error, "bad_verification_code");
    const code4 = await codeFor(provider, redirectUri);
    const wrongRedirect = await tokenRequest(provider.origin, {
      ...base,
      code: code4,
      redirect_uri: "http://127.0.0.1:1/callback",
    });
    assert.equal((await wrongRedirect.json()).error, "redirect_uri_mismatch");
    const code5 = await codeFor(provider, redirectUri);
    const good = await (await tokenRequest(provider.origin, { ...base, code: code5 })).json();
    assert.equal(good.token_type, "bearer");
    const user = await fetch(`${provider.origin}/api/v3/user`, {
      headers: { Authorization: `token ${good.access_token}` },
    });
    assert.equal((await user.json()).login, "octocat");
    const anonymous = await fetch(`${provider.origin}/api/v3/user`);
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
  } finally {
    await provider.close();
  }
});

Deno.test("redirect URIs other than 127.0.0.1/callback are refused", async () => {
  const provider = startDevProvider({ autoApprove: true });
  try {
    for (
      const uri of [
        "http://localhost:5000/callback",
        "http://127.0.0.1:5000/other",
        "https://evil.example/callback",
      ]
    ) {
      const response = await authorize(provider.origin, {
        client_id: provider.clientId,
        redirect_uri: uri,
      });
      await response.body?.cancel();
      assert.equal(response.status, 400, uri);
    }
    const unknown = await authorize(provider.origin, { client_id: "someone-else" });
    await unknown.body?.cancel();
    assert.equal(unknown.status, 404);
  } finally {
    await provider.close();
  }
});

Deno.test("the consent page: Cancel redirects with access_denied and the state", async () => {
  const provider = startDevProvider();
  const callback = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    return new Response(new URL(request.url).search);
  });
  try {
    const url = new URL("/login/oauth/authorize", provider.origin);
    url.search = new URLSearchParams({
      client_id: provider.clientId,
      redirect_uri: `http://127.0.0.1:${callback.addr.port}/callback`,
      state: "xyz",
    }).toString();
    const consent = await fetch(url);
    const html = await consent.text();
    assert.match(html, /Authorize/);
    assert.match(html, /Cancel/);
    const denied = new URLSearchParams((await actAsUser(url.href, { decision: "cancel" })).body);
    assert.equal(denied.get("error"), "access_denied");
    assert.equal(denied.get("state"), "xyz");
    const approved = new URLSearchParams(
      (await actAsUser(url.href, { decision: "authorize" })).body,
    );
    assert.ok(approved.get("code"));
  } finally {
    await callback.shutdown();
    await provider.close();
  }
});

Deno.test("expiring mode: ghu_/ghr_ pairs, rotation, single-use refresh tokens, 401 when expired", async () => {
  const provider = startDevProvider({
    autoApprove: true,
    expiringTokens: { accessTtl: 1, refreshTtl: 60 },
  });
  try {
    const redirectUri = "http://127.0.0.1:54321/callback";
    const code = await codeFor(provider, redirectUri);
    const client = { client_id: provider.clientId, client_secret: provider.clientSecret };
    const first = await (await tokenRequest(provider.origin, {
      ...client,
      code,
      redirect_uri: redirectUri,
      code_verifier: VERIFIER,
    })).json();
    assert.match(first.access_token, /^ghu_/);
    assert.match(first.refresh_token, /^ghr_/);
    assert.equal(first.expires_in, 1);
    assert.equal(first.refresh_token_expires_in, 60);
    const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
      tokenRequest(provider.origin, {
        ...client,
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        ...extra,
      }).then((r) => r.json());
    const wrongSecret = await refresh(first.refresh_token, { client_secret: "nope" });
    assert.equal(wrongSecret.error, "incorrect_client_credentials");
    const second = await refresh(first.refresh_token);
    assert.match(second.access_token, /^ghu_/);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.deepEqual(provider.activeRefreshTokens(), [second.refresh_token]);
    assert.equal((await refresh(first.refresh_token)).error, "bad_refresh_token", "single use");

    await waitUntil(() => !provider.activeTokens().includes(second.access_token), {
      what: "the access token to lapse",
    });
    const expired = await fetch(`${provider.origin}/api/v3/user`, {
      headers: { Authorization: `token ${second.access_token}` },
    });
    await expired.body?.cancel();
    assert.equal(expired.status, 401);
    assert.ok(!provider.activeTokens().includes(second.access_token));
    const third = await refresh(second.refresh_token);
    const user = await fetch(`${provider.origin}/api/v3/user`, {
      headers: { Authorization: `token ${third.access_token}` },
    });
    assert.equal((await user.json()).login, "octocat");
  } finally {
    await provider.close();
  }
});

Deno.test("the consent form: a POST without the page's token is 403 and decides nothing; the page's token works once", async () => {
  const provider = startDevProvider();
  const callback = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    return new Response(new URL(request.url).search);
  });
  try {
    const url = new URL("/login/oauth/authorize", provider.origin);
    url.search = new URLSearchParams({
      client_id: provider.clientId,
      redirect_uri: `http://127.0.0.1:${callback.addr.port}/callback`,
      state: "xyz",
    }).toString();
    const page = await fetch(url).then((r) => r.text());
    const id = /name="request" value="([^"]+)"/.exec(page)![1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1];
    const decide = (fields: Record<string, string>) =>
      fetch(new URL("/login/oauth/authorize", provider.origin), {
        method: "POST",
        body: new URLSearchParams({ request: id, decision: "authorize", ...fields }),
        redirect: "manual",
      });
    for (const fields of [{}, { csrf: "x".repeat(32) }] as Record<string, string>[]) {
      const forged = await decide(fields);
      assert.equal(forged.status, 403);
      assert.match(await forged.text(), /<h1>Form expired<\/h1>/);
    }
    const approved = await decide({ csrf });
    await approved.body?.cancel();
    assert.equal(approved.status, 302, "the page's own token still decides");
    assert.ok(new URL(approved.headers.get("location")!).searchParams.get("code"));
    const replay = await decide({ csrf });
    await replay.body?.cancel();
    assert.equal(replay.status, 403, "once");
  } finally {
    await callback.shutdown();
    await provider.close();
  }
});

/** A POST of `bytes` bytes to `url`: streamed (chunked) or with its Content-Length. */
async function postBytes(
  url: string,
  bytes: number,
  options: { declared: boolean; headers?: HeadersInit },
) {
  const data = new Uint8Array(bytes).fill(0x61);
  const body = options.declared ? data : new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < data.length; at += 65_536) {
        controller.enqueue(data.subarray(at, at + 65_536));
      }
      controller.close();
    },
  });
  const response = await fetch(url, { method: "POST", body, headers: options.headers });
  return { status: response.status, text: await response.text() };
}

Deno.test("bounds: bodies up to 1 MiB (git's up to 32 MiB), larger ones 413 whether declared or chunked; the log keeps the last 1,000 requests and 64 KiB of each body", async () => {
  const provider = startDevProvider({ autoApprove: true, dir: TEST_TMP_DIR });
  try {
    const token = `${provider.origin}/login/oauth/access_token`;
    for (const declared of [true, false]) {
      const fits = await postBytes(token, 1024 * 1024, { declared });
      assert.equal(fits.status, 200, `1 MiB (declared: ${declared})`);
      const over = await postBytes(token, 1024 * 1024 + 1, { declared });
      assert.equal(over.status, 413, `1 MiB + 1 (declared: ${declared})`);
      assert.match(over.text, /The request body is over 1 MiB, the most this dev-server reads/);
    }
    const api = await postBytes(`${provider.apiUrl}/user`, 2 * 1024 * 1024, { declared: true });
    assert.equal(api.status, 413);
    assert.equal(
      JSON.parse(api.text).message,
      "The request body is over 1 MiB, the most this dev-server reads",
    );
    // git's pack may be larger, up to its own bound (for a caller with a token).
    const code = await codeFor(provider, "http://127.0.0.1:5000/callback");
    const { access_token } = await (await tokenRequest(provider.origin, {
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
      code,
      code_verifier: VERIFIER,
    })).json();
    const push = await postBytes(
      `${provider.origin}/${provider.repository.fullName}.git/git-receive-pack`,
      32 * 1024 * 1024 + 1,
      { declared: false, headers: { authorization: `token ${access_token}` } },
    );
    assert.equal(push.status, 413);
    assert.match(push.text, /over 32 MiB/);

    // The log: a body is kept up to 64 KiB, and only the last 1,000 requests.
    const logged = provider.requests.find((r) => r.body.length > 0)!;
    assert.equal(logged.body.length, 64 * 1024);
    for (let i = 0; i < 1_000; i++) {
      const answer = await fetch(`${provider.origin}/nothing-${i}`);
      await answer.body?.cancel();
    }
    assert.equal(provider.requests.length, 1_000);
    assert.equal(provider.requests[0].path, "/nothing-0");
    assert.equal(provider.requests.at(-1)!.path, "/nothing-999");
  } finally {
    await provider.close();
  }
});
