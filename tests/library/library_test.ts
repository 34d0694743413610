/**
 * The library as its users meet it: imported from `lib/mod.ts` (and from a
 * URL with no import map), Octokit's auth strategy against the built-in
 * provider, typed errors with stable codes.
 */
import assert from "node:assert/strict";
import { Octokit } from "npm:@octokit/rest@^22";
import {
  apiRequest,
  createLoopauthAuth,
  EXIT_CODES,
  getToken,
  login,
  logout,
  type LoopauthAuthOptions,
  LoopauthError,
} from "../../lib/mod.ts";
import { actAsUser, type DevProvider, startDevProvider } from "../../lib/testing.ts";
import { findAccount, saveAccount } from "../../lib/store/accounts.ts";
import { openStore } from "../../lib/store/secret_store.ts";
import {
  emptyDir,
  grantType,
  ROOT,
  runWithInput,
  serveCheckout,
  tempConfig,
  tokenRequests,
  waitUntil,
} from "../helpers.ts";

/** Octokit's `auth` option for the provider: file storage, `onUrl` plays the user. */
function strategyOptions(
  provider: DevProvider,
  configDir: string,
  onUrl: (url: string) => void,
): LoopauthAuthOptions {
  return {
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    hostname: provider.origin,
    configDir,
    storage: "file",
    openBrowser: false,
    onAuthorizationUrl: onUrl,
  };
}

/** Authorization headers of the provider's API requests, in order. */
function apiAuthorizations(provider: DevProvider): { path: string; authorization?: string }[] {
  return provider.requests.filter((r) => r.path.startsWith("/api/v3/")).map((r) => ({
    path: r.path,
    authorization: r.headers.authorization,
  }));
}

/** Runs TypeScript given on stdin with `deno run -` and the given flags; its output. */
async function runScript(
  script: string,
  options: { flags: string[]; args?: string[]; cwd: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runWithInput(
    Deno.execPath(),
    ["run", "--no-prompt", ...options.flags, "-", ...(options.args ?? [])],
    script,
    { cwd: options.cwd },
  );
}

Deno.test("login, getToken, apiRequest and logout from lib/mod.ts; errors carry stable codes", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider();
  try {
    let consent: Promise<{ status: number }> | undefined;
    const result = await login({
      hostname: provider.origin,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      scopes: ["read:user"],
      configDir: config.dir,
      storage: "file",
      openBrowser: false,
      onAuthorizationUrl: (url) => consent = actAsUser(url),
    });
    assert.equal((await consent)?.status, 200);
    assert.equal(result.login, "octocat");
    assert.equal(result.host, provider.origin);
    assert.equal(result.storage, "file");
    assert.deepEqual(provider.activeTokens(), [result.accessToken]);

    const options = { hostname: provider.origin, configDir: config.dir };
    assert.equal(await getToken(options), result.accessToken);
    const user = await apiRequest("/user", options) as { login: string };
    assert.equal(user.login, "octocat");

    assert.deepEqual(await logout(options), {
      host: provider.origin,
      login: "octocat",
      revoked: true,
    });
    assert.deepEqual(provider.activeTokens(), [], "revoked on the server");
    const error = await getToken(options).catch((e) => e);
    assert.ok(error instanceof LoopauthError);
    assert.equal(error.code, "not_logged_in");
    assert.equal(EXIT_CODES[error.code], 3);
    assert.doesNotMatch(error.message, /\n|\.$/);

    const usage = await login({ clientId: "" }).catch((e) => e);
    assert.ok(usage instanceof LoopauthError);
    assert.equal(EXIT_CODES[usage.code], 2);
  } finally {
    await provider.close();
  }
});

Deno.test("the library imported from a URL (no deno.json) logs in against the built-in provider", async () => {
  await using server = serveCheckout();
  await using cwd = await emptyDir();
  await using config = await tempConfig();
  const script = `
import { getToken, login } from "${server.origin}/lib/mod.ts";
import { actAsUser, startDevProvider } from "${server.origin}/lib/testing.ts";
const provider = startDevProvider();
const options = { hostname: provider.origin, configDir: Deno.args[0] };
const result = await login({
  ...options, clientId: provider.clientId, clientSecret: provider.clientSecret,
  storage: "file", openBrowser: false, onAuthorizationUrl: (url) => void actAsUser(url),
});
const same = (await getToken(options)) === result.accessToken;
console.log(JSON.stringify({ login: result.login, same }));
await provider.close();
`;
  const { code, stdout, stderr } = await runScript(script, {
    flags: [
      `--allow-import=127.0.0.1:${server.addr.port}`,
      "--allow-net=127.0.0.1",
      `--allow-read=${config.dir}`,
      `--allow-write=${config.dir}`,
    ],
    args: [config.dir],
    cwd: cwd.path,
  });
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { login: "octocat", same: true });
});

Deno.test("docs/library.md's example works as pasted, with the flags it gives", async () => {
  await using config = await tempConfig();
  const section = await Deno.readTextFile(`${ROOT}/docs/library.md`);
  const example = /```ts\n([^]*?)```/.exec(section)?.[1] ?? "";
  assert.ok(example?.includes('from "./lib/mod.ts"'), "the example imports ./lib/mod.ts");
  assert.match(
    section,
    /deno run --allow-net=127\.0\.0\.1 --allow-read=\.example --allow-write=\.example\s+example\.ts/,
  );
  // Only the config directory moves: tests write under their private root.
  const script = example.replaceAll('".example"', JSON.stringify(config.dir));
  const flags = [
    "--allow-net=127.0.0.1",
    `--allow-read=${config.dir}`,
    `--allow-write=${config.dir}`,
  ];
  const run = await runScript(script, { flags, cwd: ROOT });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat\ntrue not_logged_in\n$/,
  );
});

Deno.test("Octokit auth strategy: logs in on first use, then reuses the stored token", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider();
  try {
    const urls: string[] = [];
    let consent: Promise<unknown> | undefined;
    const auth = strategyOptions(provider, config.dir, (url) => {
      urls.push(url);
      consent = actAsUser(url);
    });
    const baseUrl = `${provider.origin}/api/v3`;
    const octokit = new Octokit({ authStrategy: createLoopauthAuth, auth, baseUrl });
    const { data } = await octokit.rest.users.getAuthenticated();
    await consent;
    assert.equal(data.login, "octocat");
    assert.equal(urls.length, 1, "one login");
    const [token] = provider.activeTokens();
    const first = apiAuthorizations(provider);
    assert.equal(first.at(-1)?.authorization, `token ${token}`);
    assert.deepEqual(await octokit.auth(), {
      type: "token",
      tokenType: "oauth",
      token,
      host: provider.origin,
      login: "octocat",
      scopes: [],
    });

    // A second client (a later run of the program): the stored token, no login.
    const again = new Octokit({ authStrategy: createLoopauthAuth, auth, baseUrl });
    await Promise.all([again.request("GET /user"), again.request("GET /user")]);
    assert.equal(urls.length, 1, "no second login");
    assert.deepEqual(tokenRequests(provider).map(grantType), ["authorization_code"]);
    assert.ok(
      apiAuthorizations(provider).slice(-2).every((r) => r.authorization === `token ${token}`),
    );

    // The token never goes to another host than the one it is for.
    const before = provider.requests.length;
    const elsewhere = new Octokit({
      authStrategy: createLoopauthAuth,
      auth,
      baseUrl: "http://127.0.0.2:9/api/v3",
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const refused = await elsewhere.request("GET /user").catch((e) => e);
    assert.ok(refused instanceof LoopauthError);
    assert.equal(refused.code, "usage");
    assert.match(refused.message, /set Octokit's baseUrl to http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    assert.equal(provider.requests.length, before);
  } finally {
    await provider.close();
  }
});

Deno.test("Octokit auth strategy: refreshes expiring tokens before use and once after a 401", async () => {
  await using config = await tempConfig();
  const provider = startDevProvider({
    autoApprove: true,
    expiringTokens: { accessTtl: 1, refreshTtl: 3600 },
  });
  try {
    const auth = strategyOptions(provider, config.dir, (url) => void actAsUser(url));
    const baseUrl = `${provider.origin}/api/v3`;
    const octokit = new Octokit({ authStrategy: createLoopauthAuth, auth, baseUrl });
    // First use logs in; the new token expires within the refresh margin, so
    // the next request goes out with a refreshed one.
    assert.equal((await octokit.rest.users.getAuthenticated()).data.login, "octocat");
    assert.deepEqual(tokenRequests(provider).map(grantType), ["authorization_code"]);
    assert.equal((await octokit.request("GET /user")).data.login, "octocat");
    assert.deepEqual(tokenRequests(provider).map(grantType), [
      "authorization_code",
      "refresh_token",
    ]);
    const stored = await findAccount(provider.origin, "octocat", { dir: config.dir });
    assert.ok(stored);
    assert.equal(
      apiAuthorizations(provider).at(-1)?.authorization,
      `token ${stored.token.accessToken}`,
    );
    assert.ok(provider.activeTokens().includes(stored.token.accessToken));

    // Clock skew: the stored expiry says an hour, the server lets the token lapse.
    const skewed = { ...stored.token, expiresAt: new Date(Date.now() + 3600_000).toISOString() };
    await saveAccount({ ...stored, token: skewed }, openStore("file", { dir: config.dir }), {
      dir: config.dir,
    });
    await waitUntil(() => provider.activeTokens().length === 0, {
      what: "the server to let the token lapse",
    });
    const later = new Octokit({ authStrategy: createLoopauthAuth, auth, baseUrl });
    assert.equal((await later.request("GET /user")).data.login, "octocat");
    assert.deepEqual(tokenRequests(provider).map(grantType), [
      "authorization_code",
      "refresh_token",
      "refresh_token",
    ]);
    const statuses = provider.requests.filter((r) => r.path === "/api/v3/user").slice(-2);
    assert.equal(statuses.length, 2);
    assert.equal(statuses[0].headers.authorization, `token ${stored.token.accessToken}`);
    const renewed = await findAccount(provider.origin, "octocat", { dir: config.dir });
    assert.equal(statuses[1].headers.authorization, `token ${renewed?.token.accessToken}`);
    assert.notEqual(renewed?.token.accessToken, stored.token.accessToken);
  } finally {
    await provider.close();
  }
});
