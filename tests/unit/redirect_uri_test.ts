/**
 * `--redirect-uri` and the user's authorization parameters: what is
 * accepted and refused, and where the callback server then listens (exactly
 * the host, port and path given; `localhost` on both loopback addresses).
 */
import assert from "node:assert/strict";
import { parseRedirectUri } from "../../lib/flows/redirect_uri.ts";
import { parseParams } from "../../lib/flows/authorization_params.ts";
import { serveCallback } from "../../lib/flows/callback_server.ts";
import { LoopauthError } from "../../lib/core/errors.ts";
import { socketOwner } from "../../lib/platform/socket_owner.ts";
import { isListening, rawRequest, waitUntil } from "../helpers.ts";

const STATE = "s".repeat(43);

/** The one-line usage error `fn` throws. */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof LoopauthError, String(error));
    assert.equal(error.code, "usage");
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail("no error");
}

/** A port free on both 127.0.0.1 and ::1 right now. */
function freePort(): number {
  for (;;) {
    const v4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = v4.addr as Deno.NetAddr;
    try {
      Deno.listen({ hostname: "::1", port }).close();
      return port;
    } catch {
      continue;
    } finally {
      v4.close();
    }
  }
}

Deno.test("--redirect-uri: 127.0.0.1, [::1] and localhost with a port and a path, or no port (one from the OS)", () => {
  assert.deepEqual(parseRedirectUri("http://127.0.0.1:8123/callback"), {
    host: "127.0.0.1",
    port: 8123,
    path: "/callback",
  });
  assert.deepEqual(parseRedirectUri("http://[::1]:8123/oauth2/cb"), {
    host: "[::1]",
    port: 8123,
    path: "/oauth2/cb",
  });
  assert.deepEqual(parseRedirectUri("http://localhost/cb"), { host: "localhost", path: "/cb" });
});

Deno.test("--redirect-uri refused in one line: another host, https, a query, a fragment, port 0, user info, a form the provider would not compare equal", () => {
  const cases: [string, RegExp][] = [
    ["http://example.com:8123/cb", /the host must be 127\.0\.0\.1, \[::1\] or localhost/],
    ["http://0.0.0.0:8123/cb", /the host must be/],
    ["http://127.0.0.2:8123/cb", /the host must be/],
    ["http://localhost.example.com:8123/cb", /the host must be/],
    ["https://127.0.0.1:8123/cb", /a loopback redirect is http:\/\//],
    ["file:///tmp/cb", /a loopback redirect is http:\/\//],
    ["http://127.0.0.1:8123/cb?x=1", /no query or fragment/],
    ["http://127.0.0.1:8123/cb?", /no query or fragment/],
    ["http://127.0.0.1:8123/cb#frag", /no query or fragment/],
    ["http://127.0.0.1:0/cb", /port 0 is no port a provider accepts/],
    ["http://user:pw@127.0.0.1:8123/cb", /no user name or password/],
    ["http://LOCALHOST:8123/cb", /write it as http:\/\/localhost:8123\/cb$/],
    ["http://127.1:8123/cb", /write it as http:\/\/127\.0\.0\.1:8123\/cb$/],
    ["http://127.0.0.1:8123/a/../cb", /write it as http:\/\/127\.0\.0\.1:8123\/cb$/],
    ["http://127.0.0.1:8123", /write it as http:\/\/127\.0\.0\.1:8123\/$/],
    ["not a url", /give an http:\/\/ loopback URL/],
  ];
  for (const [text, why] of cases) {
    const message = usage(() => parseRedirectUri(text));
    assert.match(message, /^Invalid --redirect-uri "/, text);
    assert.match(message, why, text);
  }
  assert.doesNotMatch(usage(() => parseRedirectUri("http://user:hunter2@127.0.0.1/cb")), /hunter2/);
});

Deno.test("--param: NAME=VALUE pairs; every name loopauth owns refused in any case; bad names, control characters, repeats refused", () => {
  assert.deepEqual(parseParams(["audience=https://api.example.com", "acr_values=mfa", "x="]), {
    audience: "https://api.example.com",
    acr_values: "mfa",
    x: "",
  });
  for (
    const name of [
      "state",
      "STATE",
      "code_challenge",
      "code_challenge_method",
      "Code_Challenge_Foo",
      "redirect_uri",
      "resource",
      "client_id",
      "response_type",
      "response_mode",
      "scope",
      "nonce",
    ]
  ) {
    assert.match(usage(() => parseParams([`${name}=attacker`])), /^Refused --param .*itself/);
  }
  assert.match(usage(() => parseParams(["scope=repo"])), /use --scopes$/);
  assert.match(usage(() => parseParams(["audience"])), /write NAME=VALUE/);
  assert.match(usage(() => parseParams(["=x"])), /write NAME=VALUE/);
  assert.match(usage(() => parseParams(["a&b=x"])), /write NAME=VALUE/);
  assert.match(usage(() => parseParams(["a=1", "a=2"])), /given twice/);
  const secret = "line1\nline2";
  assert.doesNotMatch(usage(() => parseParams([`a=${secret}`])), /line1/);
});

Deno.test("the callback server on localhost: 127.0.0.1 and ::1 at one port, Host localhost:PORT and the exact path only; both closed after", async () => {
  const port = freePort();
  const server = serveCallback({
    state: STATE,
    redirect: { host: "localhost", port, path: "/oauth2/cb" },
  });
  assert.equal(server.redirectUri, `http://localhost:${port}/oauth2/cb`);
  assert.equal(server.port, port);
  assert.ok(await isListening(port, { hostname: "127.0.0.1" }));
  assert.ok(await isListening(port, { hostname: "::1" }));
  const get = (host: string, path: string, hostname = "127.0.0.1") =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, {
      hostname,
    });
  const callback = `/oauth2/cb?state=${STATE}&code=abc`;
  assert.equal(await get(`127.0.0.1:${port}`, callback), 400, "another Host");
  assert.equal(await get(`[::1]:${port}`, callback, "::1"), 400, "another Host");
  assert.equal(await get(`localhost:${port + 1}`, callback), 400, "another port");
  assert.equal(await get(`localhost:${port}`, `/callback?state=${STATE}&code=abc`), 404);
  assert.equal(await get(`localhost:${port}`, `/oauth2/cb/?state=${STATE}&code=abc`), 404);
  assert.equal(await get(`localhost:${port}`, callback, "::1"), 200);
  assert.equal((await server.result).code, "abc");
  assert.equal(await server.teardown, "graceful");
  assert.equal(await isListening(port, { hostname: "127.0.0.1" }), false);
  assert.equal(await isListening(port, { hostname: "::1" }), false);
});

Deno.test("the callback server on [::1] listens there only; on 127.0.0.1 with a path, there only", async () => {
  const v6 = serveCallback({ state: STATE, redirect: { host: "[::1]", path: "/cb" } });
  assert.match(v6.redirectUri, /^http:\/\/\[::1\]:\d+\/cb$/);
  assert.ok(await isListening(v6.port, { hostname: "::1" }));
  assert.equal(await isListening(v6.port, { hostname: "127.0.0.1" }), false);
  const status = await rawRequest(
    v6.port,
    `GET /cb?state=${STATE}&code=abc HTTP/1.1\r\nHost: [::1]:${v6.port}\r\nConnection: close\r\n\r\n`,
    { hostname: "::1" },
  );
  assert.equal(status, 200);
  assert.equal((await v6.result).code, "abc");

  const v4 = serveCallback({ state: STATE, redirect: { host: "127.0.0.1", path: "/a/b" } });
  assert.match(v4.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/a\/b$/);
  assert.equal(await isListening(v4.port, { hostname: "::1" }), false);
  // A pasted callback is checked against the same path.
  const wrong = await v4.submit(`http://127.0.0.1:${v4.port}/callback?state=${STATE}&code=x`);
  assert.equal(wrong.ended, false);
  assert.match(wrong.message, /paste the address that starts with http:\/\/127\.0\.0\.1:\d+\/a\/b/);
  const right = await v4.submit(`${v4.redirectUri}?state=${STATE}&code=x`);
  assert.equal(right.ended, true);
  assert.equal((await v4.result).code, "x");
});

Deno.test("localhost with a fixed port taken on ::1 only is one line naming [::1], and 127.0.0.1 is let go", async () => {
  const port = freePort();
  const taken = Deno.listen({ hostname: "::1", port });
  try {
    assert.throws(
      () => serveCallback({ state: STATE, redirect: { host: "localhost", port, path: "/cb" } }),
      (e) =>
        e instanceof LoopauthError && e.code === "port_in_use" &&
        e.message ===
          `Port ${port} on [::1] is already in use: free it or choose another with --redirect-uri`,
    );
  } finally {
    taken.close();
  }
  // The 127.0.0.1 half was closed again.
  await waitUntil(async () => !(await isListening(port)), { what: "127.0.0.1 let go" });
});

Deno.test("the other-users check knows a client of a callback server on ::1 (/proc/net/tcp6)", () => {
  const header =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid\n";
  const v6 = "00000000000000000000000001000000";
  const line = `   0: ${v6}:A000 ${v6}:1F90 01 00000000:00000000 00:00000000 00000000  1001 0 1\n`;
  assert.equal(socketOwner(header + line, 0x1f90, 0xa000), 1001);
  assert.equal(socketOwner(header + line, 0x1f91, 0xa000), undefined);
});
