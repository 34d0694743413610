import assert from "node:assert/strict";
import { serveCallback } from "../lib/flows/callback_server.ts";
import { LoopauthError } from "../lib/core/errors.ts";
import { isListening, rawRequest } from "./helpers.ts";

const STATE = "s".repeat(43);

function get(url: string): Promise<Response> {
  return fetch(url, { redirect: "manual" });
}

Deno.test("only 127.0.0.1 listens, on a port from the OS", async () => {
  const server = serveCallback({ state: STATE });
  assert.match(server.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  assert.ok(server.port > 0);
  assert.equal(await isListening(server.port), true);
  await assert.rejects(() => Deno.connect({ hostname: "::1", port: server.port }));
  const response = await get(`${server.redirectUri}?state=${STATE}&code=abc`);
  await response.body?.cancel();
  assert.equal((await server.result).code, "abc");
});

Deno.test("invalid requests get a 4xx and do not end the wait", async () => {
  const server = serveCallback({ state: STATE, timeout: 10_000 });
  const base = `http://127.0.0.1:${server.port}`;
  const cases: [string, number][] = [
    [`${base}/callback?code=abc`, 400], // no state
    [`${base}/callback?state=wrong&code=abc`, 400],
    [`${base}/callback?state=${STATE}x&code=abc`, 400],
    [`${base}/callback?state=${STATE}`, 400], // no code
    [`${base}/callbackx?state=${STATE}&code=abc`, 404],
    [`${base}/?state=${STATE}&code=abc`, 404],
    [`${base}/favicon.ico`, 404],
    [`${base}/callback?state=${STATE}&code=${"a".repeat(9000)}`, 414],
  ];
  for (const [url, status] of cases) {
    const response = await get(url);
    await response.body?.cancel();
    assert.equal(response.status, status, url.slice(0, 80));
  }
  const post = await fetch(`${base}/callback?state=${STATE}&code=abc`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET");
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
  assert.equal(await isListening(server.port), true, "still waiting");
  const ok = await get(`${base}${path}`);
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal((await server.result).code, "abc");
});

Deno.test("every answer carries the security headers and escapes what it echoes", async () => {
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
  const started = performance.now();
  await server.result;
  assert.ok(performance.now() - started < 900, "settled before the hard-stop grace");
  idle.close();
});

Deno.test("a second callback after the first gets 409 or a closed port", async () => {
  // The first callback is held inside onCallback until the second has been answered.
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => entered = resolve);
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const server = serveCallback({
    state: STATE,
    onCallback: async () => {
      entered();
      await held;
      return 1;
    },
  });
  const first = get(`${server.redirectUri}?state=${STATE}&code=1`);
  await inside;
  const second = await get(`${server.redirectUri}?state=${STATE}&code=2`);
  await second.body?.cancel();
  assert.equal(second.status, 409);
  release();
  await (await first).body?.cancel();
  assert.equal(await server.result, 1);
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

Deno.test("iss is checked when an issuer is expected (RFC 9207)", async () => {
  const server = serveCallback({ state: STATE, issuer: "https://issuer.example" });
  const response = await get(
    `${server.redirectUri}?state=${STATE}&code=1&iss=https://evil.example`,
  );
  // It ends the login, like every other page that does: 200, and the page says why.
  assert.equal(response.status, 200);
  assert.match(await response.text(), /came from the wrong issuer/);
  await assert.rejects(server.result, /wrong issuer/);
  const good = serveCallback({ state: STATE, issuer: "https://issuer.example" });
  const ok = await get(
    `${good.redirectUri}?state=${STATE}&code=1&iss=${encodeURIComponent("https://issuer.example")}`,
  );
  await ok.body?.cancel();
  assert.equal((await good.result).code, "1");
});
