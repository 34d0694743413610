/**
 * The attack suite, threat 2 of 9: web pages in the user's browser. While a
 * login waits, any page the user has open can send the browser to
 * `http://127.0.0.1:PORT/callback` (login CSRF with a code of its own, a
 * form POST, script in `error_description`), and a DNS-rebinding page can
 * reach the port under a name of its own. See tests/security_test.ts.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { serveCallback } from "../../lib/flows/callback_server.ts";
import { LoopauthError } from "../../lib/core/errors.ts";
import { rawRequest } from "../helpers.ts";
import { assertStillWaiting, get, STATE } from "../security_helpers.ts";

Deno.test("attack: a page sends the browser to the callback with no state, a wrong one or one a character longer (login CSRF), or without a code → 400, the wait goes on", async () => {
  const server = serveCallback({ state: STATE, timeout: 10_000 });
  const base = `http://127.0.0.1:${server.port}`;
  const cases: [string, number][] = [
    [`${base}/callback?code=abc`, 400], // no state
    [`${base}/callback?state=wrong&code=abc`, 400],
    [`${base}/callback?state=${STATE}x&code=abc`, 400],
    [`${base}/callback?state=${STATE}`, 400], // no code
  ];
  for (const [url, status] of cases) {
    const response = await get(url);
    await response.body?.cancel();
    assert.equal(response.status, status, url.slice(0, 80));
  }
  await assertStillWaiting(server);
});

Deno.test("attack: a callback with a wrong Host header (DNS rebinding: evil.example, localhost, none over HTTP/1.0) → 400, the wait goes on", async () => {
  const server = serveCallback({ state: STATE, timeout: 10_000 });
  // A DNS-rebinding page reaches the port with its own Host; HTTP/1.0 may send none.
  const path = `/callback?state=${STATE}&code=abc`;
  assert.equal(
    await rawRequest(
      server.port,
      `GET ${path} HTTP/1.1\r\nHost: evil.example:${server.port}\r\n\r\n`,
    ),
    400,
  );
  assert.equal(
    await rawRequest(server.port, `GET ${path} HTTP/1.1\r\nHost: localhost:${server.port}\r\n\r\n`),
    400,
  );
  assert.equal(await rawRequest(server.port, `GET ${path} HTTP/1.0\r\n\r\n`), 400);
  await assertStillWaiting(server);
});

/** Whether this process may listen on 127.0.0.1:80 now (root, and nobody else there). */
function port80Free(): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port: 80 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "attack: a callback on port 80 with a Host other than the browser's 127.0.0.1 (DNS rebinding: evil.example, localhost, 127.0.0.1:8080, none over HTTP/1.0) → 400, the wait goes on",
  ignore: !port80Free(),
  fn: async () => {
    const server = serveCallback({ state: STATE, timeout: 10_000, port: 80 });
    assert.equal(server.redirectUri, "http://127.0.0.1/callback");
    const path = `/callback?state=${STATE}&code=abc`;
    for (const host of ["evil.example", "localhost", "127.0.0.1:8080"]) {
      assert.equal(
        await rawRequest(80, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
        400,
        host,
      );
    }
    assert.equal(await rawRequest(80, `GET ${path} HTTP/1.0\r\n\r\n`), 400);
    await assertStillWaiting(server);
  },
});

Deno.test("attack: a callback to a --redirect-uri on localhost under another Host (DNS rebinding: evil.example, 127.0.0.1, [::1]) or on another path (/callback) → 400 or 404 on both addresses, the wait goes on", async () => {
  const server = serveCallback({
    state: STATE,
    timeout: 10_000,
    redirect: { host: "localhost", path: "/oauth2/cb" },
  });
  const path = `/oauth2/cb?state=${STATE}&code=abc`;
  for (const hostname of ["127.0.0.1", "::1"]) {
    const send = (host: string, target = path) =>
      rawRequest(server.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { hostname });
    assert.equal(await send(`evil.example:${server.port}`), 400, hostname);
    assert.equal(await send(`127.0.0.1:${server.port}`), 400, hostname);
    assert.equal(await send(`[::1]:${server.port}`), 400, hostname);
    assert.equal(await send(`localhost:${server.port}`, `/callback?state=${STATE}&code=abc`), 404);
  }
  await assertStillWaiting(server);
});

Deno.test("attack: a page posts a form to the callback → 405 (Allow: GET), the wait goes on", async () => {
  const server = serveCallback({ state: STATE, timeout: 10_000 });
  const post = await fetch(`${server.redirectUri}?state=${STATE}&code=abc`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET");
  await assertStillWaiting(server);
});

Deno.test("attack: script in the callback's error and error_description (XSS) → escaped on a page that runs no script (CSP), is never cached and sends no referrer", async () => {
  const server = serveCallback({ state: STATE });
  const bad = await get(`http://127.0.0.1:${server.port}/nope`);
  await bad.body?.cancel();
  const xss = `<script>alert(1)</script>`;
  const denied = await get(
    `${server.redirectUri}?state=${STATE}&error=${encodeURIComponent(xss)}&error_description=${
      encodeURIComponent(`"${xss}'`)
    }`,
  );
  const html = await denied.text();
  for (const response of [bad, denied]) {
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("referrer-policy"), "no-referrer");
    assert.equal(
      response.headers.get("content-security-policy"),
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  }
  assert.equal(denied.status, 200);
  assert.ok(!html.includes("<script>"), "no raw script tag");
  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  await assert.rejects(server.result, (e) => e instanceof LoopauthError && e.code === "oauth");
});

Deno.test("attack: random callback paths and queries without the state (fast-check) → 4xx, the wait goes on, nothing echoed unescaped", async () => {
  const state = "S".repeat(43);
  const server = serveCallback({ state, timeout: 60_000 });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant("/callback"),
          fc.webPath(),
          fc.string().map((s) => `/${encodeURIComponent(s)}`),
        ),
        fc.dictionary(
          fc.constantFrom("state", "code", "error", "error_description", "iss", "x"),
          fc.string(),
        ),
        async (path, query) => {
          if (query.state === state) delete query.state;
          const url = `${base}${path.startsWith("/") ? path : `/${path}`}?${new URLSearchParams(
            query,
          )}`;
          const response = await fetch(url, { redirect: "manual" });
          const body = await response.text();
          assert.ok(response.status >= 400 && response.status < 500, `${url} → ${response.status}`);
          for (const value of Object.values(query)) {
            if (/[<>"']/.test(value) && value.length > 3) {
              assert.ok(!body.includes(value), "escaped");
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    const ok = await fetch(`${base}/callback?state=${state}&code=c`);
    await ok.body?.cancel();
    assert.equal(ok.status, 200, "the real callback still ends the wait");
    assert.equal((await server.result).code, "c");
  } finally {
    await fetch(`${base}/callback?state=${state}&code=c`).then((r) => r.body?.cancel()).catch(
      () => {},
    );
    await server.result.catch(() => {});
  }
});
