/**
 * The callback server's outcomes: denied, success and failure pages, the
 * teardown, timeouts, aborts and fixed ports. The attacks on it (forged
 * state, Host, paths, methods, sizes, XSS, a second callback, `iss`) are in
 * the suite: tests/security/local_test.ts, web_pages_test.ts and
 * server_test.ts.
 */
import assert from "node:assert/strict";
import { serveCallback } from "../../lib/flows/callback_server.ts";
import { LoopauthError } from "../../lib/core/errors.ts";
import { listenError } from "../../lib/core/listen_error.ts";
import { isListening } from "../helpers.ts";

const STATE = "s".repeat(43);

function get(url: string): Promise<Response> {
  return fetch(url, { redirect: "manual" });
}

Deno.test("access_denied with the right state ends the wait as denied", async () => {
  const server = serveCallback({ state: STATE });
  const response = await get(`${server.redirectUri}?state=${STATE}&error=access_denied`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /Access denied/);
  await assert.rejects(
    server.result,
    (e) => e instanceof LoopauthError && e.code === "access_denied",
  );
  assert.equal(await isListening(server.port), false);
});

Deno.test("the page waits for onCallback and shows its outcome; the port closes after", async () => {
  const server = serveCallback({
    state: STATE,
    onCallback: async ({ code }) => {
      await new Promise((r) => setTimeout(r, 30));
      return `user-${code}`;
    },
    successPage: (value) => ({
      title: `Logged in as ${value}`,
      message: "Return to the terminal.",
    }),
  });
  const response = await get(`${server.redirectUri}?state=${STATE}&code=42`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("connection"), "close");
  assert.match(await response.text(), /Logged in as user-42/);
  assert.equal(await server.result, "user-42");
  assert.equal(await isListening(server.port), false);
});

Deno.test("a failing onCallback shows an error page and rejects", async () => {
  const server = serveCallback({
    state: STATE,
    onCallback: () => {
      throw new LoopauthError("oauth", "The client ID or client secret is wrong");
    },
  });
  const response = await get(`${server.redirectUri}?state=${STATE}&code=42`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /client ID or client secret is wrong/);
  await assert.rejects(server.result, /client secret is wrong/);
});

Deno.test("an idle browser pre-connection does not delay the teardown", async () => {
  const server = serveCallback({ state: STATE });
  const idle = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const response = await get(`${server.redirectUri}?state=${STATE}&code=1`);
  await response.text();
  await server.result;
  // Had the idle connection held up shutdown(), the hard stop would have ended it.
  assert.equal(await server.teardown, "graceful");
  idle.close();
});

Deno.test("timeout ends the wait and frees the port", async () => {
  const server = serveCallback({ state: STATE, timeout: 200 });
  await assert.rejects(
    server.result,
    (e) => e instanceof LoopauthError && e.code === "timeout" && /200ms/.test(e.message),
  );
  assert.equal(await isListening(server.port), false);
});

Deno.test("abort ends the wait at once and frees the port", async () => {
  const controller = new AbortController();
  const server = serveCallback({ state: STATE, signal: controller.signal });
  controller.abort();
  await assert.rejects(server.result, (e) => e instanceof LoopauthError && e.code === "cancelled");
  assert.equal(await isListening(server.port), false);
});

Deno.test("a failed listen is one line: the fixed port named, no port (every ephemeral one taken) said so, a low port needs root", () => {
  const inUse = new Deno.errors.AddrInUse("Address already in use (os error 98)");
  const notAvailable = new Deno.errors.AddrNotAvailable("Cannot assign requested address");
  const cases: [unknown, number | undefined, string | undefined, RegExp | undefined][] = [
    [inUse, 8400, "port_in_use", /^Port 8400 on 127\.0\.0\.1 is already in use: /],
    [inUse, 0, "port_in_use", /^No free port on 127\.0\.0\.1: .* choose a free one with --port$/],
    [inUse, undefined, "port_in_use", /^No free port on 127\.0\.0\.1: /],
    // BSD and macOS: no ephemeral port left is EADDRNOTAVAIL.
    [notAvailable, 0, "port_in_use", /^No free port on 127\.0\.0\.1: /],
    [notAvailable, 8400, "network", /^Cannot listen on 127\.0\.0\.1: /],
    [
      new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
      80,
      "port_in_use",
      /needs root/,
    ],
    [
      new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
      8400,
      undefined,
      undefined,
    ],
    [new TypeError("other"), 0, undefined, undefined],
  ];
  for (const [error, port, code, message] of cases) {
    const mapped = listenError(error, port);
    assert.equal(mapped?.code, code, `${error} on ${port}`);
    if (message) assert.match(mapped!.message, message);
    if (mapped) assert.equal(mapped.cause, error);
    assert.doesNotMatch(mapped?.message ?? "", /undefined/);
  }
});

Deno.test("a busy fixed port is a clear error naming it", async () => {
  const first = serveCallback({ state: STATE });
  assert.throws(
    () => serveCallback({ state: STATE, port: first.port }),
    (e) =>
      e instanceof LoopauthError && e.code === "port_in_use" &&
      e.message.includes(String(first.port)),
  );
  const response = await get(`${first.redirectUri}?state=${STATE}&code=1`);
  await response.body?.cancel();
  await first.result;
  // Once the first login is over, its port can be pinned again.
  const again = serveCallback({ state: STATE, port: first.port, timeout: 100 });
  assert.equal(again.port, first.port);
  await assert.rejects(again.result, (e) => e instanceof LoopauthError && e.code === "timeout");
});

Deno.test("the start URL: unknown before the authorization URL is set, one redirect, a foreign socket's request refused and the wait goes on", async () => {
  let verdict: "own" | "foreign" | "unknown" = "foreign";
  const server = serveCallback({
    state: STATE,
    timeout: 10_000,
    peer: () => Promise.resolve(verdict),
  });
  const base = `http://127.0.0.1:${server.port}`;
  const before = await get(`${base}/start/0123456789abcdef0123456789abcdef`);
  await before.body?.cancel();
  assert.equal(before.status, 404);
  const start = server.startUrlFor("https://example.com/authorize?state=x");
  assert.match(start, new RegExp(`^${base}/start/[0-9a-f]{32}$`));
  const wrong = await get(`${base}/start/${"0".repeat(32)}`);
  await wrong.body?.cancel();
  assert.equal(wrong.status, 404);
  for (const url of [start, `${server.redirectUri}?state=${STATE}&code=abc`]) {
    const refused = await get(url);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /another user/);
  }
  verdict = "unknown"; // where the socket table cannot be read, the start URL alone protects
  const posted = await fetch(start, { method: "POST" });
  await posted.body?.cancel();
  assert.equal(posted.status, 405);
  const first = await get(start);
  await first.body?.cancel();
  assert.equal(first.status, 302);
  assert.equal(first.headers.get("location"), "https://example.com/authorize?state=x");
  const callback = await get(`${server.redirectUri}?state=${STATE}&code=abc`);
  await callback.body?.cancel();
  assert.equal((await server.result).code, "abc");
});
