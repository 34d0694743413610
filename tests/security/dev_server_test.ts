/**
 * The attack suite, threat 8 of 9: web pages and clients against the
 * built-in provider (`loopauth dev-server`, `./testing`). A developer runs it
 * on 127.0.0.1 while browsing: a page can reach it under a name of its own
 * (DNS rebinding), post a cross-site form to its device page, or send it
 * bodies larger than memory. See tests/security_test.ts.
 */
import assert from "node:assert/strict";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { approveDeviceCode, startDevProvider } from "../../lib/dev/provider.ts";
import { rawRequest, tempConfig } from "../helpers.ts";
import { startDevServer } from "../helpers/dev_server.ts";
import { rssKiB } from "../hostile.ts";

/** A raw HTTP/1.1 form POST of `body` to `path` with this `Host` line (none when `undefined`). */
function rawPost(path: string, host: string | undefined, body: string): string {
  return `POST ${path} HTTP/1.1\r\n${host === undefined ? "" : `Host: ${host}\r\n`}` +
    `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n` +
    `Connection: close\r\n\r\n${body}`;
}

/** A device code and its user code, as a CLI asks for them. */
async function deviceCode(origin: string, clientId: string) {
  const answer = await fetch(`${origin}/login/device/code`, {
    method: "POST",
    headers: { accept: "application/json" },
    body: new URLSearchParams({ client_id: clientId, scope: "repo" }),
  }).then((r) => r.json());
  assert.ok(answer.user_code, JSON.stringify(answer));
  return answer as { device_code: string; user_code: string };
}

/** One device-grant poll: the error or `"token"`. */
async function poll(origin: string, clientId: string, deviceCode: string): Promise<string> {
  const answer = await fetch(`${origin}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept: "application/json" },
    body: new URLSearchParams({
      client_id: clientId,
      device_code: deviceCode,
      grant_type: DEVICE_GRANT_TYPE,
    }),
  }).then((r) => r.json());
  return answer.access_token ? "token" : answer.error;
}

Deno.test("attack: a web page sends the developer's browser to the dev-server under another name (DNS rebinding) → refused", async () => {
  const provider = startDevProvider({ deviceInterval: 0 });
  try {
    const port = Number(new URL(provider.origin).port);
    const ask = new URLSearchParams({ client_id: provider.clientId, scope: "repo" }).toString();
    // The page's name now resolves to 127.0.0.1: the browser sends the page's own Host,
    // asks for a device code, reads the device page (its CSRF token), and would approve.
    const names = [
      `rebind.attacker.example:${port}`,
      `127.0.0.1.attacker.example:${port}`,
      `localhost.:${port}`,
      `127.0.0.1:${port + 1}`,
      `[::1]:${port}`, // it does not listen there
      "127.0.0.1",
      undefined, // HTTP/1.0 without a Host
    ];
    for (const host of names) {
      const what = String(host);
      const code = host === undefined
        ? `POST /login/device/code HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${ask.length}\r\n\r\n${ask}`
        : rawPost("/login/device/code", host, ask);
      assert.equal(await rawRequest(port, code), 421, `${what}: POST /login/device/code`);
      const page = `GET /login/device HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
      if (host !== undefined) assert.equal(await rawRequest(port, page), 421, `${what}: page`);
      const api = `GET /api/v3/repos/octocat/hello-world HTTP/1.1\r\nHost: ${host}\r\n` +
        `Connection: close\r\n\r\n`;
      if (host !== undefined) assert.equal(await rawRequest(port, api), 421, `${what}: API`);
    }
    // No handler ran: nothing was recorded, no code or token was made.
    assert.equal(provider.requests.length, 0);
    assert.deepEqual(provider.activeTokens(), []);
    // The names it is reached by still work, and only those are recorded.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      assert.equal(await rawRequest(port, rawPost("/login/device/code", host, ask)), 200, host);
    }
    assert.equal(provider.requests.length, 3);
  } finally {
    await provider.close();
  }
});

Deno.test("attack: a cross-site form POSTs /login/device with a user code → 403, the code stays unapproved, no token is minted", async () => {
  const provider = startDevProvider({ deviceInterval: 0 });
  try {
    const { origin, clientId } = provider;
    const code = await deviceCode(origin, clientId);
    // The page knows (or guesses, or phished) the user code; a browser posting its form
    // sends the dev-server's own Host and the page's Origin, but no token from the page.
    const forged = async (fields: Record<string, string>) => {
      const response = await fetch(`${origin}/login/device`, {
        method: "POST",
        headers: { origin: "https://attacker.example" },
        body: new URLSearchParams({ user_code: code.user_code, decision: "authorize", ...fields }),
      });
      return { status: response.status, body: await response.text() };
    };
    const refused = async (fields: Record<string, string>) => {
      const answer = await forged(fields);
      assert.equal(answer.status, 403, JSON.stringify(fields));
      assert.match(answer.body, /<h1>Form expired<\/h1>/);
    };
    await refused({});
    await refused({ csrf: "" });
    await refused({ csrf: "A".repeat(32) });
    // A token of the consent form does not open the device form.
    const consent = await fetch(
      `${origin}/login/oauth/authorize?client_id=${clientId}&redirect_uri=${
        encodeURIComponent("http://127.0.0.1:5000/callback")
      }`,
    ).then((r) => r.text());
    const consentToken = /name="csrf" value="([^"]+)"/.exec(consent)?.[1];
    assert.ok(consentToken, "the consent page carries a token");
    await refused({ csrf: consentToken });
    assert.equal(await poll(origin, clientId, code.device_code), "authorization_pending");
    assert.deepEqual(provider.activeTokens(), []);

    // A token is single use: a replay of the developer's own form post is refused too.
    const page = await fetch(`${origin}/login/device`).then((r) => r.text());
    const token = /name="csrf" value="([^"]+)"/.exec(page)![1];
    const other = await deviceCode(origin, clientId);
    const first = await fetch(`${origin}/login/device`, {
      method: "POST",
      body: new URLSearchParams({ user_code: other.user_code, decision: "cancel", csrf: token }),
    });
    await first.body?.cancel();
    assert.equal(first.status, 200);
    await refused({ csrf: token });
    assert.equal(await poll(origin, clientId, code.device_code), "authorization_pending");

    // The developer, on the page, still approves it.
    const approved = await approveDeviceCode(origin, code.user_code);
    assert.equal(approved.status, 200, approved.body);
    assert.equal(await poll(origin, clientId, code.device_code), "token");
    assert.equal(provider.activeTokens().length, 1);
  } finally {
    await provider.close();
  }
});

/** Sends `bytes` zero bytes as a streamed (chunked) POST body; the answer's status. */
async function bigPost(url: string, bytes: number): Promise<number> {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const response = await fetch(url, { method: "POST", body });
  await response.body?.cancel();
  return response.status;
}

Deno.test("attack: three 100 MB POSTs → 413, the process's memory stays bounded", async () => {
  await using config = await tempConfig();
  const server = await startDevServer([], config.home);
  try {
    const { origin } = server.info;
    const before = await rssKiB(server.pid);
    assert.ok(before > 0, "ps reads the dev-server's memory");
    const size = 100 * 1024 * 1024;
    for (const path of ["/login/oauth/access_token", "/api/graphql", "/login/device"]) {
      assert.equal(await bigPost(`${origin}${path}`, size), 413, path);
    }
    // Kept, the bodies alone were 300 MB; read and dropped at 1 MiB, they leave no trace.
    const grown = (await rssKiB(server.pid)) - before;
    assert.ok(grown < 64 * 1024, `the dev-server grew by ${grown} KiB`);
    // It still serves.
    const ok = await fetch(`${origin}/api/v3/`);
    await ok.body?.cancel();
    assert.equal(ok.status, 200);
  } finally {
    const { code, stderr } = await server.stop();
    assert.equal(code, 0, stderr);
  }
});
