/**
 * The built-in provider's GitHub shapes (OAuth bodies, PKCE messages, REST
 * scope headers and JSON errors, the OAuth app endpoints, GraphQL, https)
 * and `loopauth dev-server`'s flags, as a CLI author's tests meet them.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { approveDeviceCode, type DevProvider, startDevProvider } from "../../lib/dev/provider.ts";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  childEnv,
  Cli,
  gitEnv,
  MAIN,
  runCli,
  runFlags,
  tempConfig,
  TEST_TMP_DIR,
} from "../helpers.ts";
import { startDevServer } from "../helpers/dev_server.ts";
import { tempDir } from "../helpers/env.ts";
import { runMcpClient } from "../helpers/mcp.ts";

const VERIFIER = "v".repeat(43);
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");

/** A code of an auto-approving provider for `redirectUri` (with PKCE when `challenge`). */
async function codeFor(
  origin: string,
  clientId: string,
  options: { redirectUri?: string; scope?: string; challenge?: boolean } = {},
): Promise<string> {
  const url = new URL("/login/oauth/authorize", origin);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: options.redirectUri ?? "http://127.0.0.1:5000/callback",
    scope: options.scope ?? "",
    ...(options.challenge ? { code_challenge: CHALLENGE, code_challenge_method: "S256" } : {}),
  }).toString();
  const response = await fetch(url, { redirect: "manual" });
  await response.body?.cancel();
  assert.equal(response.status, 302);
  return new URL(response.headers.get("location")!).searchParams.get("code")!;
}

/** A token with `scope` (a web-flow login, JSON answer). */
async function tokenFor(provider: DevProvider, scope: string): Promise<string> {
  const code = await codeFor(provider.origin, provider.clientId, { scope });
  const answer = await fetch(`${provider.origin}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify({
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
      code,
    }),
  }).then((r) => r.json());
  assert.ok(answer.access_token, JSON.stringify(answer));
  return answer.access_token;
}

async function get(provider: DevProvider, path: string, token?: string) {
  const response = await fetch(`${provider.origin}${path}`, {
    headers: token ? { authorization: `token ${token}` } : {},
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

async function graphql(provider: DevProvider, token: string | undefined, body: unknown) {
  const response = await fetch(`${provider.origin}/api/graphql`, {
    method: "POST",
    headers: token ? { authorization: `bearer ${token}` } : {},
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test("OAuth endpoints take form or JSON bodies and answer JSON only when Accept asks", async () => {
  const provider = startDevProvider({ deviceInterval: 0 });
  try {
    const json = await fetch(`${provider.origin}/login/device/code`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ client_id: provider.clientId, scope: "repo" }),
    });
    assert.equal(json.status, 200);
    assert.match(json.headers.get("content-type")!, /^application\/json/);
    const device = await json.json();
    const form = await fetch(`${provider.origin}/login/device/code`, {
      method: "POST",
      body: new URLSearchParams({ client_id: provider.clientId }),
    });
    assert.match(form.headers.get("content-type")!, /^application\/x-www-form-urlencoded/);
    assert.match(new URLSearchParams(await form.text()).get("user_code")!, /^[A-Z]{4}-[A-Z]{4}$/);
    const wrong = await fetch(`${provider.origin}/login/device/code`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ client_id: "someone-else" }),
    });
    assert.equal(wrong.status, 400);
    assert.equal((await wrong.json()).error, "incorrect_client_credentials");

    await approveDeviceCode(provider.origin, device.user_code);
    const token = await fetch(`${provider.origin}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({
        client_id: provider.clientId,
        device_code: device.device_code,
        grant_type: DEVICE_GRANT_TYPE,
      }),
    }).then((r) => r.json());
    assert.match(token.access_token, /^gho_/);
    assert.equal(token.scope, "repo");
  } finally {
    await provider.close();
  }
});

Deno.test("PKCE: the error says whether the verifier is missing, malformed or does not match", async () => {
  const provider = startDevProvider({ autoApprove: true });
  try {
    const exchange = async (verifier?: string) => {
      const code = await codeFor(provider.origin, provider.clientId, { challenge: true });
      const answer = await fetch(`${provider.origin}/login/oauth/access_token`, {
        method: "POST",
        headers: { accept: "application/json" },
        body: new URLSearchParams({
          client_id: provider.clientId,
          client_secret: provider.clientSecret,
          code,
          ...(verifier === undefined ? {} : { code_verifier: verifier }),
        }),
      });
      assert.equal(answer.status, 200, "GitHub answers token errors with HTTP 200");
      return await answer.json();
    };
    const missing = await exchange();
    assert.equal(missing.error, "bad_verification_code");
    assert.match(missing.error_description, /code_verifier is missing/);
    for (const malformed of ["short", "v".repeat(129), `${"v".repeat(42)}!`]) {
      const answer = await exchange(malformed);
      assert.equal(answer.error, "bad_verification_code");
      assert.match(
        answer.error_description,
        /code_verifier is malformed: RFC 7636 wants 43 to 128/,
      );
    }
    const mismatch = await exchange("w".repeat(43));
    assert.equal(mismatch.error, "bad_verification_code");
    assert.match(mismatch.error_description, /does not match the code_challenge/);
    assert.match((await exchange(VERIFIER)).access_token, /^gho_/);
  } finally {
    await provider.close();
  }
});

Deno.test("REST API: scope headers on every answer to a token, JSON errors for every /api/ path", async () => {
  const provider = startDevProvider({ autoApprove: true });
  try {
    const token = await tokenFor(provider, "repo user:email");
    const plain = await tokenFor(provider, "");

    const root = await get(provider, "/api/v3/", token);
    assert.equal(root.status, 200);
    assert.equal(root.headers.get("x-oauth-scopes"), "repo, user:email");
    assert.equal(root.headers.get("x-accepted-oauth-scopes"), "");
    assert.equal(root.json().current_user_url, `${provider.apiUrl}/user`);
    const anonymous = await get(provider, "/api/v3/");
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.headers.get("x-oauth-scopes"), null);

    for (const path of ["/api/v3/nothing", "/api/nothing", "/api", "/api/v3/user/keys"]) {
      const answer = await get(provider, path, token);
      assert.equal(answer.status, 404, path);
      assert.match(answer.headers.get("content-type")!, /^application\/json/, path);
      assert.deepEqual(answer.json(), {
        message: "Not Found",
        documentation_url: "https://docs.github.com/rest",
        status: "404",
      });
    }
    const bad = await get(provider, "/api/v3/user", "gho_unknown");
    assert.equal(bad.status, 401);
    assert.equal(bad.json().message, "Bad credentials");
    const noToken = await get(provider, "/api/v3/user");
    assert.equal(noToken.status, 401);
    assert.equal(noToken.json().message, "Requires authentication");

    const user = await get(provider, "/api/v3/user", token);
    assert.equal(user.json().login, "octocat");
    assert.equal(user.json().type, "User");
    assert.equal(user.headers.get("x-oauth-client-id"), provider.clientId);

    const emails = await get(provider, "/api/v3/user/emails", token);
    assert.equal(emails.status, 200);
    assert.deepEqual(emails.json().map((e: { primary: boolean }) => e.primary), [true]);
    assert.equal(emails.headers.get("x-accepted-oauth-scopes"), "user, user:email");
    const hidden = await get(provider, "/api/v3/user/emails", plain);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.headers.get("x-oauth-scopes"), "");
    assert.equal(hidden.headers.get("x-accepted-oauth-scopes"), "user, user:email");

    const repo = await get(provider, "/api/v3/repos/octocat/hello-world", token);
    assert.equal(repo.status, 200);
    assert.equal(repo.json().full_name, "octocat/hello-world");
    assert.equal(repo.json().private, true);
    assert.equal(repo.json().clone_url, provider.repository.cloneUrl);
    assert.equal((await get(provider, "/api/v3/repos/octocat/hello-world", plain)).status, 404);
    assert.equal((await get(provider, "/api/v3/repos/octocat/hello-world")).status, 404);
    assert.deepEqual(
      (await get(provider, "/api/v3/user/repos", token)).json().map((r: { id: number }) => r.id),
      [repo.json().id],
    );
    assert.deepEqual((await get(provider, "/api/v3/user/repos", plain)).json(), []);
  } finally {
    await provider.close();
  }
});

Deno.test("OAuth app endpoints: Basic client credentials, then check, reset, delete; GitHub's errors", async () => {
  const provider = startDevProvider({ autoApprove: true });
  try {
    const token = await tokenFor(provider, "repo");
    const call = (method: string, body: unknown, credentials?: string) =>
      fetch(`${provider.apiUrl}/applications/${provider.clientId}/token`, {
        method,
        headers: credentials ? { authorization: `Basic ${btoa(credentials)}` } : {},
        body: JSON.stringify(body),
      });
    const good = `${provider.clientId}:${provider.clientSecret}`;
    const cases: [string, unknown, string | undefined, number, string][] = [
      ["POST", { access_token: token }, undefined, 401, "Requires authentication"],
      ["POST", { access_token: token }, `${provider.clientId}:wrong`, 401, "Bad credentials"],
      ["POST", {}, good, 422, 'Invalid request.\n\n"access_token" wasn\'t supplied.'],
      ["POST", { access_token: "gho_unknown" }, good, 404, "Not Found"],
      ["PUT", { access_token: token }, good, 404, "Not Found"],
    ];
    for (const [method, body, credentials, status, message] of cases) {
      const answer = await call(method, body, credentials);
      assert.equal(answer.status, status, `${method} ${JSON.stringify(body)} ${credentials}`);
      assert.equal((await answer.json()).message, message);
    }
    const check = await call("POST", { access_token: token }, good);
    assert.equal(check.status, 200);
    const authorization = await check.json();
    assert.equal(authorization.token, token);
    assert.deepEqual(authorization.scopes, ["repo"]);
    assert.match(authorization.hashed_token, /^[0-9a-f]{64}$/);
    assert.equal(authorization.user.login, "octocat");
    assert.equal(authorization.expires_at, null);

    const reset = await (await call("PATCH", { access_token: token }, good)).json();
    assert.notEqual(reset.token, token);
    assert.deepEqual(provider.activeTokens(), [reset.token]);
    const deleted = await call("DELETE", { access_token: reset.token }, good);
    assert.equal(deleted.status, 204);
    assert.deepEqual(provider.activeTokens(), []);
  } finally {
    await provider.close();
  }
});

Deno.test("GraphQL: gh's viewer query, aliases, fragments, variables; GitHub's errors", async () => {
  const provider = startDevProvider({ autoApprove: true });
  try {
    const token = await tokenFor(provider, "repo");
    const gh = await graphql(provider, token, { query: "query UserCurrent{viewer{login}}" });
    assert.equal(gh.status, 200);
    assert.deepEqual(gh.body, { data: { viewer: { login: "octocat" } } });
    assert.equal(gh.headers.get("x-oauth-scopes"), "repo");

    const rich = await graphql(provider, token, {
      query: `query Repo($owner: String!, $name: String!) {
        me: viewer { ...Who databaseId }
        repository(owner: $owner, name: $name) {
          nameWithOwner isPrivate defaultBranchRef { name } owner { login __typename }
          ... on Repository { visibility }
        }
      }
      fragment Who on User { login name email @include(if: false) }`,
      variables: { owner: "octocat", name: "hello-world" },
      operationName: "Repo",
    });
    assert.deepEqual(rich.body, {
      data: {
        me: { login: "octocat", name: "The Octocat", databaseId: 583231 },
        repository: {
          nameWithOwner: "octocat/hello-world",
          isPrivate: true,
          defaultBranchRef: { name: "main" },
          owner: { login: "octocat", __typename: "User" },
          visibility: "PRIVATE",
        },
      },
    });

    const unknown = await graphql(provider, token, { query: "{ viewer { login shoeSize } }" });
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.data, undefined, "a query that does not validate runs nothing");
    assert.equal(unknown.body.errors[0].message, "Field 'shoeSize' doesn't exist on type 'User'");
    const missing = await graphql(provider, token, {
      query: '{ viewer { login } repository(owner: "octocat", name: "nope") { name } }',
    });
    assert.deepEqual(missing.body.data, { viewer: { login: "octocat" }, repository: null });
    assert.equal(missing.body.errors[0].type, "NOT_FOUND");
    assert.deepEqual(missing.body.errors[0].path, ["repository"]);
    const syntax = await graphql(provider, token, { query: "{ viewer { " });
    assert.match(syntax.body.errors[0].message, /Syntax Error/);
    const mutation = await graphql(provider, token, { query: "mutation { viewer { login } }" });
    assert.match(mutation.body.errors[0].message, /not configured for mutations/);

    const anonymous = await graphql(provider, undefined, { query: "{ viewer { login } }" });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.message, "This endpoint requires you to be authenticated.");
    const bad = await graphql(provider, "gho_unknown", { query: "{ viewer { login } }" });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.message, "Bad credentials");
  } finally {
    await provider.close();
  }
});

Deno.test("tls: https with a CA that vouches only for 127.0.0.1 and localhost, its files removed on close", async () => {
  const provider = startDevProvider({ tls: true, autoApprove: true, dir: TEST_TMP_DIR });
  const caFile = provider.caFile!;
  try {
    assert.match(provider.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(provider.apiUrl, `${provider.origin}/api/v3`);
    const caPem = await Deno.readTextFile(caFile);
    const dir = caFile.slice(0, caFile.lastIndexOf("/"));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ca.pem"], "no key is left");
    const described = new TextDecoder().decode(
      (await new Deno.Command("openssl", {
        args: ["x509", "-in", caFile, "-noout", "-ext", "nameConstraints,basicConstraints"],
      }).output()).stdout,
    );
    assert.match(described, /CA:TRUE/);
    assert.match(described, /Permitted:\s+IP:127\.0\.0\.1\/255\.255\.255\.255\s+DNS:localhost/);

    await assert.rejects(fetch(`${provider.apiUrl}/`), "not trusted without the CA");
    const client = Deno.createHttpClient({ caCerts: [caPem] });
    try {
      const root = await fetch(`${provider.apiUrl}/`, { client });
      assert.equal(root.status, 200);
      await root.body?.cancel();
      const device = await fetch(`${provider.origin}/login/device/code`, {
        method: "POST",
        client,
        headers: { accept: "application/json" },
        body: new URLSearchParams({ client_id: provider.clientId }),
      }).then((r) => r.json());
      assert.equal(device.verification_uri, `${provider.origin}/login/device`);
      const page = await approveDeviceCode(provider.origin, device.user_code, { client });
      assert.equal(page.status, 200);
      // Over https too it answers to the names of its certificate, and to no other.
      const port = Number(new URL(provider.origin).port);
      const hosts: [string, number][] = [[`localhost:${port}`, 200], [`evil.example:${port}`, 421]];
      for (const [host, status] of hosts) {
        const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caPem] });
        try {
          await conn.write(
            new TextEncoder().encode(
              `GET /api/v3/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
            ),
          );
          const answer = await new Response(conn.readable).text();
          assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), host);
        } catch (error) {
          conn.close();
          throw error;
        }
      }
    } finally {
      client.close();
    }
  } finally {
    await provider.close();
  }
  await assert.rejects(Deno.stat(caFile), Deno.errors.NotFound);
});

Deno.test("scopesGranted: every token gets those scopes, whatever was asked", async () => {
  const provider = startDevProvider({ autoApprove: true, scopesGranted: ["read:user"] });
  try {
    const token = await tokenFor(provider, "repo admin:org");
    assert.equal(
      (await get(provider, "/api/v3/", token)).headers.get("x-oauth-scopes"),
      "read:user",
    );
  } finally {
    await provider.close();
  }
});

Deno.test("dev-server --json: the first line is JSON, and the flags reach the provider", async () => {
  await using home = await tempConfig();
  const server = await startDevServer([
    "--auto-approve",
    "--user",
    "hubot",
    "--scopes-granted",
    "repo,gist",
    "--expiring",
    "30s",
    "--device-interval",
    "2",
    "--callback",
    "http://127.0.0.1/oauth",
    "--client-id",
    "my-cli",
    "--client-secret",
    "my-secret",
  ], home.home);
  try {
    const { info } = server;
    assert.match(info.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(info, {
      origin: info.origin,
      apiUrl: `${info.origin}/api/v3`,
      graphqlUrl: `${info.origin}/api/graphql`,
      clientId: "my-cli",
      clientSecret: "my-secret",
      repository: `${info.origin}/hubot/hello-world.git`,
    });
    // The registered callback, any port; another path is refused.
    const refused = await fetch(
      `${info.origin}/login/oauth/authorize?client_id=my-cli&redirect_uri=${
        encodeURIComponent("http://127.0.0.1:5000/callback")
      }`,
      { redirect: "manual" },
    );
    await refused.body?.cancel();
    assert.equal(refused.status, 400);
    const code = await codeFor(info.origin, "my-cli", {
      redirectUri: "http://127.0.0.1:5000/oauth",
      scope: "read:user",
    });
    const token = await fetch(`${info.origin}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json" },
      body: new URLSearchParams({ client_id: "my-cli", client_secret: "my-secret", code }),
    }).then((r) => r.json());
    assert.match(token.access_token, /^ghu_/);
    assert.match(token.refresh_token, /^ghr_/);
    assert.equal(token.expires_in, 30);
    assert.equal(token.scope, "repo,gist");
    const user = await fetch(`${info.apiUrl}/user`, {
      headers: { authorization: `token ${token.access_token}` },
    }).then((r) => r.json());
    assert.equal(user.login, "hubot");
    const device = await fetch(`${info.origin}/login/device/code`, {
      method: "POST",
      headers: { accept: "application/json" },
      body: new URLSearchParams({ client_id: "my-cli" }),
    }).then((r) => r.json());
    assert.equal(device.interval, 2);
  } finally {
    const { code, stderr } = await server.stop("SIGINT");
    assert.equal(code, 0, stderr);
  }
});

Deno.test("dev-server: malformed flags are usage errors; a busy port is exit 10", async () => {
  await using home = await tempConfig();
  const cases: [string[], RegExp][] = [
    [["--user", "not a login"], /^Error: Invalid --user "not a login": a GitHub login is/],
    [
      ["--scopes-granted", "repo,$(x)"],
      /^Error: Invalid --scopes-granted: "\$\(x\)" is not a scope/,
    ],
    [["--device-interval", "soon"], /^Error: Invalid --device-interval "soon"/],
    [["--expiring", "0s"], /^Error: Invalid duration "0s"/],
    [["--callback", "ftp://127.0.0.1/cb"], /^Error: Invalid --callback "ftp:\/\/127\.0\.0\.1\/cb"/],
    [["--port", "70000"], /^Error: Invalid --port "70000"/],
  ];
  for (const [args, message] of cases) {
    const out = await runCli(["dev-server", ...args], { configHome: home.home });
    assert.equal(out.code, EXIT_CODES.usage, args.join(" "));
    assert.match(out.stderr, message);
    assert.equal(out.stderr.split("\n").filter(Boolean).length, 1, out.stderr);
  }
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const out = await runCli(["dev-server", "--port", String(port)], { configHome: home.home });
    assert.equal(out.code, EXIT_CODES.port_in_use);
    assert.equal(
      out.stderr,
      `Error: Port ${port} on 127.0.0.1 is already in use: free it or choose another with --port`,
    );
  } finally {
    busy.close();
  }
});

Deno.test("dev-server --tls: its Try: line works as printed (DENO_CERT), and git trusts it through GIT_SSL_CAINFO as printed", async () => {
  await using home = await tempConfig();
  // Every token may read the demo repository, whatever the login asked for.
  const server = new Cli(["dev-server", "--tls", "--auto-approve", "--scopes-granted", "repo"], {
    configHome: home.home,
  });
  try {
    const trust = await server.waitForLine(/^Trust its CA: /, 30_000);
    const line = (await server.waitForLine(/^Try: /)).slice("Try: ".length);
    const [, ca, origin] =
      /^DENO_CERT=(\S+) LOOPAUTH_CLIENT_SECRET=\S+ loopauth login --hostname (https:\/\/\S+) /.exec(
        line,
      ) ??
        [];
    assert.ok(ca && origin, line);
    // The line as a user pastes it: `loopauth` is this checkout's documented `deno run`, and
    // curl, trusting the CA, plays the browser.
    const login = await new Deno.Command("bash", {
      args: [
        "-c",
        `cmd=("$@"); loopauth() { "\${cmd[@]}" "$@"; }\n${line}`,
        "bash",
        Deno.execPath(),
        "run",
        ...runFlags(`${home.home}/loopauth`),
        MAIN,
      ],
      env: childEnv(home.home, { BROWSER: `curl -fsSL --cacert ${ca} -o /dev/null` }),
      clearEnv: true,
      stdin: "null",
    }).output();
    const out = new TextDecoder().decode(login.stdout);
    const err = new TextDecoder().decode(login.stderr);
    assert.equal(login.code, 0, err);
    assert.match(out, new RegExp(`^Logged in to ${new URL(origin).host} as octocat$`, "m"), err);
    assert.doesNotMatch(err, /^Warning: --client-secret/m, "the line keeps the secret out of argv");

    // git: the variable the Trust line names for it, with the token as the password.
    const token = await runCli(["token", "--hostname", origin], { configHome: home.home });
    assert.equal(token.code, 0, token.stderr);
    const basic = btoa(`x-access-token:${token.stdout.trim()}`);
    const gitWith = (env: Record<string, string>) =>
      new Deno.Command("git", {
        args: ["ls-remote", `${origin}/octocat/hello-world.git`],
        env: {
          ...childEnv(home.home, gitEnv(home.home)),
          // The token in the environment, never in git's arguments.
          GIT_CONFIG_COUNT: "1",
          GIT_CONFIG_KEY_0: "http.extraHeader",
          GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
          ...env,
        },
        clearEnv: true,
        stdin: "null",
      }).output();
    const untrusted = await gitWith({});
    assert.notEqual(untrusted.code, 0, "without the CA git refuses the certificate");
    assert.match(new TextDecoder().decode(untrusted.stderr), /certificate/i);
    const cainfo = /GIT_SSL_CAINFO=(\S+) \(git\)/.exec(trust)?.[1];
    assert.equal(cainfo, ca, trust);
    const trusted = await gitWith({ GIT_SSL_CAINFO: cainfo });
    assert.equal(trusted.code, 0, new TextDecoder().decode(trusted.stderr));
    assert.match(new TextDecoder().decode(trusted.stdout), /\trefs\/heads\/main$/m);
  } finally {
    server.child.kill("SIGTERM");
    const stopped = await server.output();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

Deno.test("dev-server --mcp: its JSON line names the MCP URL, which challenges with its metadata; the printed mcp-proxy command logs in and calls a tool", async () => {
  await using home = await tempConfig();
  const server = await startDevServer(["--mcp"], home.home);
  try {
    const { info } = server;
    assert.deepEqual(info, { origin: info.origin, mcpUrl: `${info.origin}/mcp` });
    const refused = await fetch(info.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: "{}",
    });
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
    assert.equal(
      refused.headers.get("www-authenticate"),
      `Bearer scope="mcp:tools", resource_metadata="${info.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    const metadata = await fetch(`${info.origin}/.well-known/oauth-protected-resource/mcp`)
      .then((r) => r.json());
    assert.deepEqual(metadata.authorization_servers, [info.origin]);
    // The Try: line's command, run by an SDK client (tests/fixtures/mcp_client.ts).
    const tmp = await tempDir("mcp");
    try {
      const run = await runMcpClient(info.mcpUrl, { tmp, tools: ["echo"] });
      assert.equal(run.code, 0, run.proxyLines.join("\n"));
      assert.deepEqual(JSON.parse(run.stdout).content, [{ type: "text", text: "echo" }]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  } finally {
    const { code, stderr } = await server.stop("SIGINT");
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      new RegExp(`^Try: loopauth mcp-proxy http://127\\.0\\.0\\.1:\\d+/mcp$`, "m"),
    );
  }
});

Deno.test("dev-server --mcp takes none of the GitHub provider's flags: one line, exit 2", async () => {
  await using home = await tempConfig();
  const { code, stdout, stderr } = await runCli(["dev-server", "--mcp", "--tls"], {
    configHome: home.home,
  });
  assert.equal(code, EXIT_CODES.usage);
  assert.equal(stdout, "");
  assert.equal(stderr, "Error: --mcp takes no --tls: see loopauth help dev-server");
});

Deno.test("dev-server --mcp --confidential-clients: no public method in its metadata, a client_secret with every registration; the printed mcp-proxy command logs in with it", async () => {
  await using home = await tempConfig();
  const server = await startDevServer(["--mcp", "--confidential-clients"], home.home);
  try {
    const { info } = server;
    const metadata = await fetch(`${info.origin}/.well-known/oauth-authorization-server`)
      .then((r) => r.json());
    assert.deepEqual(metadata.token_endpoint_auth_methods_supported, [
      "client_secret_basic",
      "client_secret_post",
    ]);
    const registered = await fetch(`${info.origin}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://127.0.0.1/callback"] }),
    });
    assert.equal(registered.status, 201);
    const answer = await registered.json();
    assert.match(answer.client_secret, /^mcps_\S+$/);
    assert.equal(answer.client_secret_expires_at, 0);
    assert.equal(answer.token_endpoint_auth_method, "client_secret_basic");
    const tmp = await tempDir("mcp");
    try {
      const run = await runMcpClient(`${info.origin}/mcp`, { tmp, tools: ["echo"] });
      assert.equal(run.code, 0, run.proxyLines.join("\n"));
      assert.deepEqual(JSON.parse(run.stdout).content, [{ type: "text", text: "echo" }]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  } finally {
    const { code, stderr } = await server.stop("SIGINT");
    assert.equal(code, 0, stderr);
  }
});

Deno.test("dev-server --confidential-clients without --mcp: one line, exit 2", async () => {
  await using home = await tempConfig();
  const { code, stdout, stderr } = await runCli(["dev-server", "--confidential-clients"], {
    configHome: home.home,
  });
  assert.equal(code, EXIT_CODES.usage);
  assert.equal(stdout, "");
  assert.equal(stderr, "Error: --confidential-clients goes with --mcp");
});

Deno.test("dev-server --mcp offers the device flow (--device-interval sets its interval); --no-device-flow leaves the browser route alone; on the GitHub provider it answers device_flow_disabled", async () => {
  await using home = await tempConfig();
  const metadata = (origin: string) =>
    fetch(`${origin}/.well-known/oauth-authorization-server`).then((r) => r.json());
  const device = await startDevServer(["--mcp", "--device-interval", "1"], home.home);
  try {
    const { origin } = device.info;
    const listed = await metadata(origin);
    assert.equal(listed.device_authorization_endpoint, `${origin}/device_authorization`);
    assert.ok(listed.grant_types_supported.includes(DEVICE_GRANT_TYPE));
    const registered = await fetch(`${origin}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        redirect_uris: ["http://127.0.0.1/callback"],
        grant_types: ["authorization_code", DEVICE_GRANT_TYPE],
      }),
    }).then((r) => r.json());
    const code = await fetch(`${origin}/device_authorization`, {
      method: "POST",
      body: new URLSearchParams({ client_id: registered.client_id, resource: `${origin}/mcp` }),
    }).then((r) => r.json());
    assert.equal(code.interval, 1);
    assert.equal(code.verification_uri, `${origin}/login/device`);
  } finally {
    assert.equal((await device.stop("SIGINT")).code, 0);
  }
  const browserOnly = await startDevServer(["--mcp", "--no-device-flow"], home.home);
  try {
    const listed = await metadata(browserOnly.info.origin);
    assert.equal(listed.device_authorization_endpoint, undefined);
    assert.ok(!listed.grant_types_supported.includes(DEVICE_GRANT_TYPE));
  } finally {
    assert.equal((await browserOnly.stop("SIGINT")).code, 0);
  }
  const github = await startDevServer(["--no-device-flow"], home.home);
  try {
    const answer = await fetch(`${github.info.origin}/login/device/code`, {
      method: "POST",
      headers: { accept: "application/json" },
      body: new URLSearchParams({ client_id: github.info.clientId }),
    }).then((r) => r.json());
    assert.equal(answer.error, "device_flow_disabled");
  } finally {
    assert.equal((await github.stop("SIGINT")).code, 0);
  }
});
