/**
 * `fetchLoopbackDirect` (lib/core/loopback.ts) follows redirects itself
 * (its client would send every next request to the first address): the
 * same origin keeps the token, another origin does not get it, a 303 (and
 * a 301/302 after a POST) becomes a GET without a body, and `manual` stays
 * manual. That HTTP_PROXY never sees a loopback request is proven through
 * the CLI in tests/security/env_tokens_test.ts.
 */
import assert from "node:assert/strict";
import { fetchLoopbackDirect, isLoopbackHost } from "../../lib/core/loopback.ts";

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
  body: string;
}

/**
 * A loopback server that answers `/go?to=URL&status=N` with that redirect,
 * `/loop` with a redirect to itself, and records every request.
 */
function server() {
  const seen: Seen[] = [];
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: url.pathname,
      authorization: request.headers.get("authorization"),
      body: await request.text(),
    });
    if (url.pathname === "/loop") {
      return new Response(null, { status: 302, headers: { location: "/loop" } });
    }
    const to = url.searchParams.get("to");
    if (to) {
      return new Response(null, {
        status: Number(url.searchParams.get("status")),
        headers: { location: to },
      });
    }
    return new Response(`${request.method} ${url.pathname}`);
  });
  return {
    origin: `http://127.0.0.1:${http.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => http.shutdown(),
  };
}

const go = (origin: string, to: string, status: number) =>
  `${origin}/go?${new URLSearchParams({ to, status: String(status) })}`;

Deno.test("fetchLoopbackDirect: a redirect on the same origin keeps the token, another origin does not get it", async () => {
  await using first = server();
  await using second = server();
  const headers = { authorization: "token gho_secret" };
  const same = await fetchLoopbackDirect(go(first.origin, "/end", 302), { headers });
  assert.equal(await same.text(), "GET /end");
  assert.deepEqual(first.seen.map((s) => [s.path, s.authorization]), [
    ["/go", "token gho_secret"],
    ["/end", "token gho_secret"],
  ]);
  const other = await fetchLoopbackDirect(go(first.origin, `${second.origin}/end`, 307), {
    headers,
  });
  assert.equal(await other.text(), "GET /end");
  assert.deepEqual(second.seen.map((s) => [s.path, s.authorization]), [["/end", null]]);
  assert.equal(first.seen.length, 3, "the first server got only its own request");
});

Deno.test("fetchLoopbackDirect: 303, and 301/302 after a POST, become a GET without a body; 307/308 keep both; manual stays manual", async () => {
  await using host = server();
  const post = { method: "POST", body: "code=abc", headers: { "content-type": "text/plain" } };
  for (const status of [301, 302, 303]) {
    const response = await fetchLoopbackDirect(go(host.origin, "/end", status), post);
    assert.equal(await response.text(), "GET /end", String(status));
    assert.equal(host.seen.at(-1)!.body, "", String(status));
  }
  for (const status of [307, 308]) {
    const response = await fetchLoopbackDirect(go(host.origin, "/end", status), post);
    assert.equal(await response.text(), "POST /end", String(status));
    assert.equal(host.seen.at(-1)!.body, "code=abc", String(status));
  }
  const manual = await fetchLoopbackDirect(go(host.origin, "/end", 302), { redirect: "manual" });
  await manual.body?.cancel();
  assert.equal(manual.status, 302);
  assert.equal(host.seen.at(-1)!.path, "/go");
});

Deno.test("fetchLoopbackDirect: a redirect loop ends in a TypeError, as fetch's does", async () => {
  await using host = server();
  await assert.rejects(() => fetchLoopbackDirect(`${host.origin}/loop`), TypeError);
  assert.equal(host.seen.length, 21, "the first request and 20 redirects");
});

Deno.test("isLoopbackHost: 127.0.0.0/8 and [::1] only", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "[::1]"]) assert.equal(isLoopbackHost(host), true);
  for (const host of ["localhost", "128.0.0.1", "::1", "127.0.0.1.example.com", "10.0.0.1"]) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});
