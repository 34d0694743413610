/**
 * Errors keep their cause: the HTTP status, the OAuth `error` code and the
 * underlying error of a failure reach the `LoopauthError`, and the CLI prints
 * that chain under `LOOPAUTH_DEBUG=1` without changing its error line.
 * @module
 */
import assert from "node:assert/strict";
import {
  ERROR_REASONS,
  EXIT_CODES,
  exitCodeSummary,
  LoopauthError,
  permissionError,
} from "../../lib/core/errors.ts";
import { fetchBounded } from "../../lib/core/http.ts";
import { serveCallback } from "../../lib/flows/callback_server.ts";
import { parseTokenResponse, refreshTokens } from "../../lib/providers/github.ts";
import { resolveGitHubHost } from "../../lib/providers/github_host.ts";
import { whoami } from "../../lib/providers/github_api.ts";
import { refreshIssuerTokens } from "../../lib/providers/oidc.ts";
import { runCli, tempConfig } from "../helpers.ts";

/** A port on 127.0.0.1 that nothing listens on (one the OS just gave and took back). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return listener.addr.port;
}

/** Runs `fn` and returns the `LoopauthError` it must throw. */
async function loopauthError(fn: () => unknown): Promise<LoopauthError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof LoopauthError, `not a LoopauthError: ${error}`);
    return error;
  }
  assert.fail("no error thrown");
}

/** A server on 127.0.0.1 answering every request with `status` and `body` (JSON). */
function answering(status: number, body: unknown): Deno.HttpServer<Deno.NetAddr> & AsyncDisposable {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json(body, { status }),
  );
}

Deno.test("GitHub's 200-with-error answer keeps its status and OAuth error code", async () => {
  const error = await loopauthError(() =>
    parseTokenResponse(200, '{"error":"bad_verification_code"}', "github.com")
  );
  assert.equal(error.code, "oauth");
  assert.equal(
    error.message,
    "The authorization code is invalid, expired or already used: run the command again",
  );
  assert.equal(error.status, 200);
  assert.equal(error.oauthError, "bad_verification_code");
  // A spent refresh token, from a real token endpoint: session_expired with the answer.
  await using server = answering(200, { error: "bad_refresh_token" });
  const host = resolveGitHubHost(`http://127.0.0.1:${server.addr.port}`);
  const expired = await loopauthError(() =>
    refreshTokens(host, { refreshToken: "ghr_spent", clientId: "Iv1.test" })
  );
  assert.equal(expired.code, "session_expired");
  assert.equal(expired.status, 200);
  assert.equal(expired.oauthError, "bad_refresh_token");
});

Deno.test("a refused or timed-out request keeps the underlying error as cause", async () => {
  const error = await loopauthError(() =>
    fetchBounded(`http://127.0.0.1:${closedPort()}/`, {}, { what: "the test server" })
  );
  assert.equal(error.code, "network");
  assert.match(error.message, /^Cannot reach the test server: /);
  assert.ok(error.cause instanceof TypeError, `cause: ${error.cause}`);
  // A server that never answers: the timeout's own error is the cause.
  const { promise: released, resolve: release } = Promise.withResolvers<Response>();
  await using silent = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => released,
  );
  const timedOut = await loopauthError(() =>
    fetchBounded(`http://127.0.0.1:${silent.addr.port}/`, {}, { what: "it", timeout: 50 })
  ).finally(() => release(new Response("late")));
  assert.equal(timedOut.message, "No answer from it in time: check your network and try again");
  assert.ok(timedOut.cause instanceof DOMException, `cause: ${timedOut.cause}`);
  assert.equal(timedOut.cause.name, "TimeoutError");
});

Deno.test("an API error answer keeps Octokit's status and its RequestError", async () => {
  await using server = answering(404, { message: "Not Found" });
  const error = await loopauthError(() =>
    whoami(`http://127.0.0.1:${server.addr.port}/api/v3`, "gho_test")
  );
  assert.equal(error.code, "api");
  assert.equal(error.status, 404);
  assert.equal((error.cause as { status?: unknown }).status, 404);
});

Deno.test("an issuer's invalid_grant keeps oauth4webapi's error, its status and code", async () => {
  await using server = answering(400, { error: "invalid_grant" });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const issuer = {
    key: origin,
    metadata: {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
    },
    insecure: true,
  };
  const error = await loopauthError(() =>
    refreshIssuerTokens(issuer, "refresh-token", { clientId: "cli" })
  );
  assert.equal(error.code, "session_expired");
  assert.equal(error.status, 400);
  assert.equal(error.oauthError, "invalid_grant");
  assert.ok(error.cause instanceof Error);
});

Deno.test("the callback's error parameter becomes oauthError", async () => {
  const state = crypto.randomUUID();
  const server = serveCallback({ state, timeout: 10_000 });
  const rejected = loopauthError(() => server.result);
  await server.submit(`${server.redirectUri}?state=${state}&error=access_denied`);
  const error = await rejected;
  assert.equal(error.code, "access_denied");
  assert.equal(error.oauthError, "access_denied");
});

Deno.test("LOOPAUTH_DEBUG=1 prints the cause chain under the unchanged error line", async () => {
  await using config = await tempConfig();
  const token = "gho_errorsTestTokenThatMustNotBePrinted";
  const port = closedPort();
  const args = ["api", "/user", "--hostname", `http://127.0.0.1:${port}`];
  const plain = await runCli(args, { configHome: config.home, env: { LOOPAUTH_TOKEN: token } });
  const debug = await runCli(args, {
    configHome: config.home,
    env: { LOOPAUTH_TOKEN: token, LOOPAUTH_DEBUG: "1" },
  });
  assert.equal(plain.code, EXIT_CODES.network, plain.stderr);
  assert.equal(debug.code, EXIT_CODES.network, debug.stderr);
  const [line, ...more] = debug.stderr.split("\n");
  assert.ok(line.startsWith(`Error: Cannot reach 127.0.0.1:${port}: `), line);
  assert.equal(plain.stderr, line, "the error line is the same with and without LOOPAUTH_DEBUG");
  assert.ok(more.length > 0, debug.stderr);
  for (const cause of more) assert.match(cause, /^ {2}caused by \S/);
  for (const output of [plain.stdout, plain.stderr, debug.stdout, debug.stderr]) {
    assert.ok(!output.includes(token), "the token is not printed");
  }
});

Deno.test("a module Deno may not load when used is a permission error naming what to grant", () => {
  // As Deno words them with --unstable-lazy-dynamic-imports (tests/system/permissions_test.ts
  // meets the read case for real).
  const read = permissionError(
    new TypeError(
      'Requires read access to "/src/loopauth/lib/cli/token.ts", run again with the --allow-read flag',
    ),
  );
  assert.equal(read?.code, "permission");
  assert.match(
    read!.message,
    /^Deno may not load \/src\/loopauth\/lib\/cli\/token\.ts: add loopauth's lib directory to --allow-read /,
  );
  const imported = permissionError(
    new TypeError(
      'Requires import access to "example.com:443", run again with the --allow-import flag',
    ),
  );
  assert.match(
    imported!.message,
    /^Deno may not load example\.com:443: add its host to --allow-import /,
  );
  assert.equal(permissionError(new TypeError("Failed to fetch")), undefined);
});

Deno.test("a module Deno may not load is named whole, however long the checkout's path (the hint names it)", () => {
  const path = `/home/${"a-long-directory/".repeat(12)}loopauth/lib/cli/token.ts`;
  const error = permissionError(new TypeError(`Requires read access to "${path}"`));
  assert.ok(error);
  assert.equal(
    error.message,
    `Deno may not load ${path}: add loopauth's lib directory to --allow-read (modules load when used), or leave out --unstable-lazy-dynamic-imports`,
  );
});

Deno.test("every error reason is documented in docs/exit_codes.md with its exit code, and no other", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/exit_codes.md", import.meta.url));
  const rows = [...doc.matchAll(/^\| `([a-z_]+)` +\| (\d+) +\|/gm)].map(([, reason, exit]) => [
    reason,
    Number(exit),
  ]);
  assert.deepEqual(rows.map(([reason]) => reason), [...ERROR_REASONS]);
  for (const [, exit] of rows) assert.equal(exit, EXIT_CODES.oauth);
  const error = new LoopauthError("oauth", "No PKCE", { reason: "pkce_unsupported" });
  assert.equal(error.reason, "pkce_unsupported");
  assert.equal(new LoopauthError("oauth", "Refused").reason, undefined);
});

Deno.test("the help's exit code line names every exit code once, in order", () => {
  const codes = [...exitCodeSummary().matchAll(/(?:^|, )(\d+) /g)].map(([, code]) => Number(code));
  assert.deepEqual(codes, [0, 1, ...Object.values(EXIT_CODES)].sort((a, b) => a - b));
});
