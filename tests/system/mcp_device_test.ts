/**
 * The device route (RFC 8628) of a resource login, through the real CLI
 * against `dev-server --mcp` (lib/dev/mcp.ts): `login --resource` typed
 * with no flag on this machine (no display, no browser) completes by the
 * device code, and a real SDK `Client` through `mcp-proxy` does too; the
 * RFC 8707 `resource` goes on the device authorization request and on every
 * device-code token request; a registration asks for the device grant only
 * where the server offers it; a server without it gets the browser route
 * alone.
 */
import assert from "node:assert/strict";
import { startDevMcp } from "../../lib/dev/mcp.ts";
import { approveDeviceCode } from "../../lib/dev/user.ts";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { Cli, tempConfig, tempDir } from "../helpers.ts";
import { runMcpClient, serveMcp, serverMetadataOf } from "../helpers/mcp.ts";

/** The user code a CLI printed. */
async function userCode(cli: Cli): Promise<string> {
  return /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(await cli.waitForLine(/one-time code: /))![1];
}

Deno.test("login --resource as typed, on a machine without a browser: the device code completes it; resource on the device and token requests", async () => {
  await using config = await tempConfig();
  const mcp = startDevMcp({ deviceInterval: 0.2 });
  try {
    const cli = new Cli(["login", "--resource", mcp.url], { configHome: config.home });
    await cli.waitForLine(
      /^Logging in with the device flow and the browser flow: .*; every route runs and the first to finish wins$/,
    );
    const code = await userCode(cli);
    await cli.waitForLine(new RegExp(`enter it: ${mcp.origin}/login/device$`));
    // The browser route runs too: its URL is printed, never visited here.
    await cli.waitForLine(/^\s*http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
    assert.equal((await approveDeviceCode(mcp.origin, code)).status, 200);
    const { code: exit, stdout, stderr } = await cli.output();
    assert.equal(exit, 0, stderr);
    assert.equal(stdout, `Logged in to ${mcp.url} as user\n`);
    assert.equal(mcp.requests.filter((r) => r.path === "/authorize").length, 0);
    const asked = mcp.requests.filter((r) => r.path === "/device_authorization");
    assert.equal(asked.length, 1);
    assert.equal(asked[0].fields.resource, mcp.url);
    // No challenge to a GET: the resource's scopes_supported.
    assert.equal(asked[0].fields.scope, "mcp:tools mcp:write");
    assert.equal(asked[0].status, 200);
    const polls = mcp.requests.filter((r) => r.path === "/token");
    assert.ok(polls.length >= 1);
    assert.deepEqual(
      [...new Set(polls.map((r) => `${r.fields.grant_type} ${r.fields.resource}`))],
      [`${DEVICE_GRANT_TYPE} ${mcp.url}`],
    );
    assert.equal(polls.at(-1)!.status, 200);
    // The registration asked for the device grant (the server refuses the code to a client
    // that did not), and the stored account is the resource's.
    assert.match(
      mcp.requests.find((r) => r.path === "/register")!.fields.grant_types,
      /device_code/,
    );
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    assert.equal(stored.resources[mcp.url].authorizationServer, mcp.origin);
  } finally {
    await mcp.close();
  }
});

Deno.test("mcp-proxy: a real SDK client on a machine without a browser logs in by the device code, then calls a tool", async () => {
  const mcp = startDevMcp({ deviceInterval: 0.2 });
  const tmp = await tempDir("mcpd");
  try {
    const result = await runMcpClient(mcp.url, { tmp, tools: ["echo"], route: "device" });
    assert.equal(result.code, 0, [...result.proxyLines, ...result.clientLines].join("\n"));
    assert.equal(result.stdout.trim().split("\n").length, 1);
    JSON.parse(result.stdout);
    assert.ok(result.proxyLines.some((l) => /^First copy your one-time code: /.test(l)));
    assert.equal(mcp.requests.filter((r) => r.path === "/authorize").length, 0);
    const asked = mcp.requests.filter((r) => r.path === "/device_authorization");
    assert.deepEqual(asked.map((r) => r.fields.resource), [mcp.url]);
    const tokens = mcp.requests.filter((r) => r.path === "/token");
    assert.ok(
      tokens.every((r) => r.fields.grant_type === DEVICE_GRANT_TYPE),
      JSON.stringify(tokens),
    );
    assert.ok(tokens.every((r) => r.fields.resource === mcp.url));
    assert.deepEqual(mcp.requests.filter((r) => r.tool === "echo").map((r) => r.status), [200]);
  } finally {
    await mcp.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("mcp-proxy --device: a refused device code is one line and exit 1 for the client, nothing stored", async () => {
  const mcp = startDevMcp({ deviceInterval: 0.2 });
  const tmp = await tempDir("mcpd");
  try {
    const result = await runMcpClient(mcp.url, {
      tmp,
      tools: ["echo"],
      route: "deny",
      args: ["--device"],
    });
    assert.equal(result.code, 1);
    const errors = result.proxyLines.filter((l) => l.startsWith("Error: "));
    assert.deepEqual(errors, ["Error: Access was denied: nothing was stored"]);
    assert.equal(mcp.requests.filter((r) => r.path === "/authorize").length, 0);
    assert.equal(mcp.requests.filter((r) => r.tool === "echo").length, 0);
  } finally {
    await mcp.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("dev-server --mcp with deviceFlow: false: no device endpoint; the registration asks for no device grant; the browser route alone", async () => {
  const mcp = startDevMcp({ deviceFlow: false });
  const tmp = await tempDir("mcpd");
  try {
    const metadata = await (await fetch(`${mcp.origin}/.well-known/oauth-authorization-server`))
      .json();
    assert.equal(metadata.device_authorization_endpoint, undefined);
    assert.ok(!metadata.grant_types_supported.includes(DEVICE_GRANT_TYPE));
    const result = await runMcpClient(mcp.url, { tmp, tools: ["echo"] });
    assert.equal(result.code, 0, [...result.proxyLines, ...result.clientLines].join("\n"));
    assert.equal(mcp.requests.filter((r) => r.path === "/device_authorization").length, 0);
    assert.equal(
      mcp.requests.find((r) => r.path === "/register")!.fields.grant_types,
      "authorization_code refresh_token",
    );
    assert.ok(
      !result.proxyLines.some((l) => /one-time code/.test(l)),
      result.proxyLines.join("\n"),
    );
  } finally {
    await mcp.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("mcp-proxy: a device endpoint whose server leaves the device grant out of grant_types_supported is not used", async () => {
  await using server = serveMcp({
    serverMetadata: (origin) =>
      serverMetadataOf(origin, {
        device_authorization_endpoint: `${origin}/device`,
        grant_types_supported: ["authorization_code", "refresh_token"],
      }),
  });
  const tmp = await tempDir("mcpd");
  try {
    const result = await runMcpClient(server.url, { tmp });
    assert.equal(result.code, 0, [...result.proxyLines, ...result.clientLines].join("\n"));
    assert.equal(server.requests.filter((r) => r.path === "/device").length, 0);
    assert.equal(server.requests.filter((r) => r.path === "/authorize").length, 1);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("login --resource --device: a registration stored by the previous release (no device grant, no grant types in its record) is replaced once; the new one's device code logs in", async () => {
  await using config = await tempConfig();
  const mcp = startDevMcp({ deviceInterval: 0.2 });
  try {
    // What the previous release registered and stored: a public client without the device grant.
    const registered = await fetch(`${mcp.origin}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "loopauth",
        redirect_uris: ["http://127.0.0.1:8123/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        token_endpoint_auth_method: "none",
      }),
    });
    assert.equal(registered.status, 201);
    const old = (await registered.json()).client_id;
    await Deno.mkdir(config.dir, { mode: 0o700 });
    await Deno.chmod(config.dir, 0o700);
    await Deno.writeTextFile(
      `${config.dir}/config.json`,
      JSON.stringify({
        version: 1,
        hosts: {},
        registrations: {
          [`${mcp.origin} `]: { clientId: old, redirectUri: "http://127.0.0.1:8123/callback" },
        },
      }),
      { mode: 0o600 },
    );
    await Deno.chmod(`${config.dir}/config.json`, 0o600);

    const cli = new Cli(["login", "--resource", mcp.url, "--device"], { configHome: config.home });
    assert.equal((await approveDeviceCode(mcp.origin, await userCode(cli))).status, 200);
    const { code, stdout, stderr } = await cli.output();
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `Logged in to ${mcp.url} as user\n`);
    // One registration of its own (with the device grant); the old client never asked a code.
    const registrations = mcp.requests.filter((r) => r.path === "/register");
    assert.equal(registrations.length, 2);
    assert.match(registrations[1].fields.grant_types, /device_code/);
    const asked = mcp.requests.filter((r) => r.path === "/device_authorization");
    assert.deepEqual(asked.map((r) => r.status), [200]);
    assert.notEqual(asked[0].fields.client_id, old);
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    const record = stored.registrations[`${mcp.origin} `];
    assert.equal(record.clientId, asked[0].fields.client_id);
    assert.ok(record.grantTypes.includes(DEVICE_GRANT_TYPE), JSON.stringify(record));
  } finally {
    await mcp.close();
  }
});
