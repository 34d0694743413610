/**
 * Threat 10: a malicious MCP server or resource metadata (`mcp-proxy`, a
 * login by a resource's URL). Metadata that names another resource, an
 * authorization server or endpoint off https, and a redirect to another
 * origin must never get the user's token or even a login; a server that
 * asks for more scopes forever gets a bounded number of logins; a device
 * endpoint or device page off https is refused, and another login's
 * callback pasted at the prompt is never redeemed. A registration's secret
 * never takes the place of an account's at its authorization server.
 */
import assert from "node:assert/strict";
import { tempConfig, tempDir } from "../helpers/env.ts";
import { Cli, runCli } from "../helpers/cli.ts";
import {
  deviceAnswer,
  mcpAppOptions,
  runMcpApp,
  runMcpClient,
  serveMcp,
  serverMetadataOf,
  toolsAnswer,
} from "../helpers/mcp.ts";
import { Tmux } from "../helpers/tmux.ts";
import { isListening } from "../helpers/net.ts";
import { approveDeviceCode } from "../../lib/dev/user.ts";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { startDevMcp } from "../../lib/dev/mcp.ts";
import { fileStore } from "../../lib/store/file.ts";
import { saveAccount } from "../../lib/store/accounts.ts";
import {
  checkResourceMetadata,
  resourceMetadataUrls,
} from "../../lib/providers/resource_metadata.ts";

/** A private directory for one client run, removed after. */
async function withTmp<T>(work: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = await tempDir("mcp");
  try {
    return await work(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** The paths of the authorization server's endpoints a run reached. */
const AUTH_PATHS = ["/register", "/authorize", "/token"];

Deno.test("attack: resource metadata names another resource (its own server) → no registration, authorization or token request; one line says so", async () => {
  await using server = serveMcp({
    resourceMetadata: (origin) => ({
      resource: "https://evil.example/mcp",
      authorization_servers: [origin],
    }),
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  assert.deepEqual(server.requests.filter((r) => AUTH_PATHS.includes(r.path)), []);
  assert.deepEqual(run.proxyLines, [
    `Error: The metadata of ${server.url} names another resource (https://evil.example/mcp): refusing to send it a token`,
  ]);
});

Deno.test("attack: resource metadata names an http:// authorization server off this machine → refused before any request to it", async () => {
  await using server = serveMcp({
    resourceMetadata: (origin) => ({
      resource: `${origin}/mcp`,
      authorization_servers: ["http://auth.evil.example"],
    }),
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  assert.deepEqual(run.proxyLines, [
    `Error: The metadata of ${server.url} names an authorization server that is not https:// (http://auth.evil.example)`,
  ]);
  assert.deepEqual(server.requests.filter((r) => r.path.includes("authorization-server")), []);
});

Deno.test("attack: authorization server metadata with an http:// endpoint off this machine → no registration and no browser; one line", async () => {
  await using server = serveMcp({
    serverMetadata: (origin) =>
      serverMetadataOf(origin, {
        authorization_endpoint: "http://evil.example/authorize",
      }),
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  assert.deepEqual(server.requests.filter((r) => AUTH_PATHS.includes(r.path)), []);
  assert.deepEqual(run.proxyLines, [
    `Error: The metadata of ${server.origin} has an invalid authorization_endpoint (https:// needed)`,
  ]);
});

Deno.test("attack: the MCP endpoint redirects to another origin after the login → that origin never gets the token", async () => {
  await using elsewhere = serveMcp();
  await using server = serveMcp({
    mcp: (rpc) =>
      rpc.method === "tools/list" ? Response.redirect(`${elsewhere.origin}/mcp`, 307) : undefined,
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  // The resource itself got the token (the login worked) …
  assert.ok(server.requests.some((r) => r.authorization === "Bearer tok-secret-1"));
  // … and the other origin no request at all, with or without it.
  assert.deepEqual(elsewhere.requests, []);
});

Deno.test("attack: a server that asks for one more scope on every request → two step-ups per request, then its 403 is the answer", async () => {
  let asked = 0;
  await using server = serveMcp({
    mcp: (rpc) => {
      if (rpc.method !== "tools/call") return toolsAnswer(rpc);
      asked++;
      return new Response(null, {
        status: 403,
        headers: {
          "www-authenticate": `Bearer error="insufficient_scope", scope="more:${asked}"`,
        },
      });
    },
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  const authorizations = server.requests.filter((r) => r.path === "/authorize");
  // The first login, then two step-ups for the one tools/call: never a third.
  assert.deepEqual(authorizations.map((r) => r.fields.scope), [
    undefined,
    "more:1",
    "more:1 more:2",
  ]);
  assert.equal(server.requests.filter((r) => r.rpc === "tools/call").length, 3);
});

/** A config home kept between client runs (mode 0700), under `tmp`. */
async function keptHome(tmp: string): Promise<string> {
  const home = `${tmp}/home`;
  await Deno.mkdir(`${home}/loopauth`, { recursive: true, mode: 0o700 });
  await Deno.chmod(home, 0o700);
  await Deno.chmod(`${home}/loopauth`, 0o700);
  return home;
}

Deno.test("attack: a registration stored for one authorization server → never sent to another (used only with its own)", async () => {
  await using a = serveMcp();
  await using b = serveMcp();
  await withTmp(async (tmp) => {
    const home = await keptHome(tmp);
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const config = `${home}/loopauth/config.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        version: 1,
        hosts: {},
        registrations: {
          [`${a.origin} `]: {
            clientId: "client-of-a",
            redirectUri: `http://127.0.0.1:${port}/callback`,
          },
        },
      }),
      { mode: 0o600 },
    );
    await Deno.chmod(config, 0o600);
    const env = { MCP_CLIENT_CONFIG_HOME: home };
    const atB = await runMcpClient(b.url, { tmp, env });
    assert.equal(atB.code, 0, [...atB.proxyLines, ...atB.clientLines].join("\n"));
    assert.equal(b.requests.filter((r) => r.path === "/register").length, 1);
    assert.deepEqual(b.requests.filter((r) => r.fields.client_id === "client-of-a"), []);
    // The same record is A's: used there, with no registration.
    const atA = await runMcpClient(a.url, { tmp, env });
    assert.equal(atA.code, 0, [...atA.proxyLines, ...atA.clientLines].join("\n"));
    assert.equal(a.requests.filter((r) => r.path === "/register").length, 0);
    assert.deepEqual(
      a.requests.filter((r) => r.path === "/authorize").map((r) => r.fields.client_id),
      ["client-of-a"],
    );
  });
});

Deno.test("attack: a stored resource token and another MCP server → that server never gets it (it gets a login of its own)", async () => {
  const mcp = startDevMcp();
  await using other = serveMcp();
  try {
    await withTmp(async (tmp) => {
      const env = { MCP_CLIENT_CONFIG_HOME: await keptHome(tmp) };
      const first = await runMcpClient(mcp.url, { tmp, env });
      assert.equal(first.code, 0, [...first.proxyLines, ...first.clientLines].join("\n"));
      const second = await runMcpClient(other.url, { tmp, env });
      assert.equal(second.code, 0, [...second.proxyLines, ...second.clientLines].join("\n"));
      const sent = new Set(other.requests.map((r) => r.authorization).filter(Boolean));
      // Its own token only (serveMcp issues tok-secret-1), after its own login.
      assert.deepEqual([...sent], ["Bearer tok-secret-1"]);
      assert.equal(other.requests.filter((r) => r.path === "/authorize").length, 1);
    });
  } finally {
    await mcp.close();
  }
});

Deno.test("attack: an MCP server's authorization server, with LOOPAUTH_CLIENT_ID and LOOPAUTH_CLIENT_SECRET exported for GitHub logins → it gets neither (loopauth registers); a --client-secret-file without --client-id is one line", async () => {
  await using server = serveMcp();
  await withTmp(async (tmp) => {
    const env = {
      MCP_PROXY_ENV: JSON.stringify({
        LOOPAUTH_CLIENT_ID: "my-github-oauth-app",
        LOOPAUTH_CLIENT_SECRET: "my-github-client-secret",
      }),
    };
    const run = await runMcpClient(server.url, { tmp, env });
    assert.equal(run.code, 0, [...run.proxyLines, ...run.clientLines].join("\n"));
    assert.equal(server.requests.filter((r) => r.path === "/register").length, 1);
    const leaked = server.requests.filter((r) =>
      JSON.stringify(r).includes("my-github") ||
      /^Basic /.test(r.authorization ?? "")
    );
    assert.deepEqual(leaked, []);
    const secretFile = `${tmp}/secret`;
    await Deno.writeTextFile(secretFile, "s3cret\n", { mode: 0o600 });
    const lone = await runMcpClient(server.url, {
      tmp,
      args: ["--client-secret-file", secretFile],
    });
    assert.notEqual(lone.code, 0);
    assert.deepEqual(lone.proxyLines, ["Error: --client-secret-file goes with --client-id"]);
  });
});

Deno.test("attack: a remote (https) MCP server names http:// services on this machine (its metadata URL, its authorization server) → refused: loopauth sends nothing to local ports for it", () => {
  const canonical = "https://mcp.example.com/mcp";
  const local = "http://127.0.0.1:6379/admin/flush?x=1";
  assert.throws(
    () => resourceMetadataUrls(canonical, { resourceMetadata: local }),
    /named resource metadata that is not https:\/\//,
  );
  for (const server of ["http://localhost:8080/realms/x", "http://127.0.0.1:9000"]) {
    assert.throws(
      () =>
        checkResourceMetadata({ resource: canonical, authorization_servers: [server] }, {
          canonical,
          url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        }),
      /names an authorization server that is not https:\/\//,
    );
  }
  // A resource on this machine may name its local servers (the conformance suite's).
  const here = "http://localhost:3000/mcp";
  assert.equal(
    resourceMetadataUrls(here, { resourceMetadata: "http://localhost:3000/meta" })[0].href,
    "http://localhost:3000/meta",
  );
});

Deno.test("attack: a confidential registration's record copied to another authorization server's key in config.json → that server gets neither its client id nor its secret (a registration of its own)", async () => {
  const a = startDevMcp({ confidentialClients: true });
  const b = startDevMcp({ confidentialClients: true });
  await using config = await tempConfig();
  try {
    const options = { configHome: config.home, env: { LOOPAUTH_STORAGE: "file" } };
    const atA = await loginResource(a.url, options);
    assert.equal(atA.code, 0, atA.stderr);
    const path = `${config.dir}/config.json`;
    const stored = JSON.parse(await Deno.readTextFile(path));
    const record = stored.registrations[`${a.origin} `];
    assert.equal(record.storage, "file");
    // The record names where A's secret is kept; under B's key it finds no secret for B.
    stored.registrations[`${b.origin} `] = record;
    await Deno.writeTextFile(path, JSON.stringify(stored), { mode: 0o600 });

    const atB = await loginResource(b.url, options);
    assert.equal(atB.code, 0, atB.stderr);
    assert.equal(b.requests.filter((r) => r.path === "/register").length, 1);
    assert.deepEqual(b.requests.filter((r) => r.fields.client_id === record.clientId), []);
    assert.deepEqual(
      b.requests.filter((r) => r.path === "/token").map((r) => r.status),
      [200],
    );
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("attack: an issuer account named like a registration → its token is untouched by the registration's save and logout", async () => {
  const mcp = startDevMcp({ confidentialClients: true, deviceFlow: false });
  await using config = await tempConfig();
  try {
    // An OpenID Connect account at the resource's authorization server whose
    // preferred_username is `client`, in the same secret store.
    await Deno.mkdir(config.dir, { mode: 0o700 });
    await Deno.chmod(config.dir, 0o700);
    const store = fileStore({ dir: config.dir });
    const token = { accessToken: "issuer-account-token", tokenType: "bearer", scopes: ["openid"] };
    await saveAccount(
      {
        host: mcp.origin,
        login: "client",
        clientId: "oidc-app",
        token,
        createdAt: new Date().toISOString(),
        storage: "file",
        issuer: true,
      },
      store,
      { dir: config.dir },
    );
    const options = { configHome: config.home, env: { LOOPAUTH_STORAGE: "file" } };

    const login = await loginResource(mcp.url, options);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 1);
    assert.equal((await store.get(mcp.origin, "client"))?.accessToken, token.accessToken);

    const logout = await runCli(["logout", "--resource", mcp.url], options);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal((await store.get(mcp.origin, "client"))?.accessToken, token.accessToken);
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    assert.deepEqual(Object.keys(stored.hosts[mcp.origin].accounts), ["client"]);
    assert.deepEqual(stored.registrations, {});
  } finally {
    await mcp.close();
  }
});

/** `login --resource URL --no-browser` played to its end: the printed URL fetched. */
async function loginResource(
  url: string,
  options: { configHome: string; env?: Record<string, string> },
) {
  const cli = new Cli(["login", "--resource", url, "--no-browser"], options);
  const line = await cli.waitForLine(/^\s*http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
  const response = await fetch(line.trim());
  await response.body?.cancel();
  return await cli.output();
}

Deno.test("attack: during an SDK client's session (mcpAuthProvider) the server's 401 names a resource_metadata URL on another local port → nothing is requested there; loopauth renews at the stored authorization server", async () => {
  const trapped: string[] = [];
  await using trap = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    trapped.push(new URL(request.url).pathname);
    return Response.json({ resource: "x", authorization_servers: ["http://127.0.0.1:9"] });
  });
  const lure = `http://127.0.0.1:${trap.addr.port}/.well-known/oauth-protected-resource/mcp`;
  let refused = false;
  await using server = serveMcp({
    mcp: (rpc) => {
      if (rpc.method !== "tools/call" || refused) return undefined;
      refused = true;
      return new Response(null, {
        status: 401,
        headers: {
          "www-authenticate": `Bearer error="invalid_token", resource_metadata="${lure}"`,
        },
      });
    },
  });
  await using config = await tempConfig();
  const run = await runMcpApp(server.url, ["echo"], mcpAppOptions("my-agent", config.home));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^renewed: echo$/m);
  assert.deepEqual(run.results.map((r) => r.tool), ["echo"]);
  assert.deepEqual(trapped, []);
  // The renewal was a login at the stored server (its tokens have no refresh token).
  assert.equal(server.requests.filter((r) => r.path === "/authorize").length, 2);
});

Deno.test("attack: authorization server metadata with an http:// device_authorization_endpoint off this machine → no registration, no device code asked, no browser; one line", async () => {
  await using server = serveMcp({
    serverMetadata: (origin) =>
      serverMetadataOf(origin, {
        device_authorization_endpoint: "http://evil.example/device",
      }),
  });
  const run = await withTmp((tmp) => runMcpClient(server.url, { tmp }));
  assert.equal(run.code, 1);
  assert.deepEqual(server.requests.filter((r) => AUTH_PATHS.includes(r.path)), []);
  assert.deepEqual(run.proxyLines, [
    `Error: The metadata of ${server.origin} has an invalid device_authorization_endpoint (https:// needed)`,
  ]);
});

Deno.test("attack: a device authorization answer naming a verification page off https elsewhere (or javascript:) → no code shown, nothing opened, no poll; one line", async () => {
  for (const page of ["http://evil.example/device", "javascript:alert(1)"]) {
    await using server = serveMcp({
      serverMetadata: (origin) =>
        serverMetadataOf(origin, {
          device_authorization_endpoint: `${origin}/device`,
        }),
      answer: (path) => path === "/device" ? deviceAnswer(page, 1) : undefined,
    });
    const run = await withTmp((tmp) => runMcpClient(server.url, { tmp, args: ["--device"] }));
    assert.equal(run.code, 1);
    assert.deepEqual(run.proxyLines, [
      `Error: The device authorization endpoint of ${server.origin} sent no valid verification_uri`,
    ]);
    assert.deepEqual(server.requests.filter((r) => r.path === "/token"), []);
  }
});

Deno.test("attack: another login's callback (its state, a real code) pasted into login --resource → the code is never redeemed, the login goes on and ends by its own route", async () => {
  const mcp = startDevMcp({ deviceInterval: 0.2 });
  await using config = await tempConfig();
  try {
    await using tmux = await Tmux.start(["login", "--resource", mcp.url], {
      configHome: config.home,
    });
    const [, userCode] = await tmux.waitFor(/one-time code: ([A-Z]{4}-[A-Z]{4})/);
    const [, port] = await tmux.waitFor(
      /paste the address it ends up at \(http:\/\/127\.0\.0\.1:(\d+)\/callback\?…\)/,
    );
    // A code the server really issued, for the attacker's own login (state, verifier).
    const client = await fetch(`${mcp.origin}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://127.0.0.1/callback"] }),
    }).then((r) => r.json());
    const authorize = new URL(`${mcp.origin}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: `http://127.0.0.1:${port}/callback`,
      state: "the-attackers-login",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      resource: mcp.url,
    }).toString();
    const redirect = await fetch(authorize, { redirect: "manual" });
    await redirect.body?.cancel();
    const callback = redirect.headers.get("location")!;
    assert.match(callback, /[?&]code=/);
    await tmux.typeLine(callback);
    await tmux.waitFor(
      /Not accepted: Invalid request: The state of this callback does not match the login in progress/,
    );
    assert.deepEqual(mcp.requests.filter((r) => r.path === "/token"), []);
    assert.equal(await isListening(Number(port)), true, "still waiting");
    // The user's own route still ends the login.
    await approveDeviceCode(mcp.origin, userCode);
    const done = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
    assert.match(done, /\[exit 0\]/, done);
    assert.ok(
      mcp.requests.filter((r) => r.path === "/token").every((r) =>
        r.fields.grant_type === DEVICE_GRANT_TYPE
      ),
    );
  } finally {
    await mcp.close();
  }
});
