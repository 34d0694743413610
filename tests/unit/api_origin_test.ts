/**
 * `guardedHook` driven by the real `@octokit/request` with a recording
 * `fetch`: what would reach which URL with which authorization, for its own
 * clients' options and for the Octokit strategy's (default base replaced,
 * a caller's own authorization passed through, a 401 renewed once).
 */
import assert from "node:assert/strict";
import { request as octokitRequest } from "npm:@octokit/request@^10";
import { LoopauthError } from "../../lib/core/errors.ts";
import { guardedHook, type GuardedHookOptions } from "../../lib/providers/api_origin.ts";

const GHES = "https://ghe.example.com/api/v3";

/** Sends `route` through a guarded hook; the fetch records and answers `status`. */
function harness(options: GuardedHookOptions, status: (authorization: string) => number) {
  const sent: { url: string; authorization: string }[] = [];
  const fetch = (url: string, init: RequestInit) => {
    const authorization = new Headers(init.headers).get("authorization") ?? "";
    sent.push({ url, authorization });
    const code = status(authorization);
    return Promise.resolve(
      new Response(JSON.stringify({ ok: code === 200 }), {
        status: code,
        headers: { "content-type": "application/json" },
      }),
    );
  };
  const send = (route: string, parameters: Record<string, unknown> = {}) =>
    octokitRequest(route, {
      ...parameters,
      request: { hook: guardedHook(options), fetch },
    });
  return { sent, send };
}

Deno.test("guardedHook: the token goes only to the API's origin; a request with its own authorization is checked too", async () => {
  const { sent, send } = harness({ apiUrl: GHES, token: "gho_one" }, () => 200);
  await send("GET /user", { baseUrl: GHES });
  assert.deepEqual(sent, [{ url: `${GHES}/user`, authorization: "token gho_one" }]);

  const elsewhere = await send("GET https://evil.example/user").catch((e) => e);
  assert.ok(elsewhere instanceof LoopauthError);
  assert.equal(elsewhere.code, "usage");
  assert.equal(
    elsewhere.message,
    "Refusing to send a request for ghe.example.com to https://evil.example: only https://ghe.example.com/api/v3 gets loopauth's credentials",
  );
  const own = await send("GET https://evil.example/user", {
    headers: { authorization: "basic abc" },
  }).catch((e) => e);
  assert.ok(own instanceof LoopauthError);
  assert.equal(sent.length, 1, "nothing else was sent");

  // Octokit's default base is not this API's: refused, not replaced.
  const github = await send("GET /user").catch((e) => e);
  assert.ok(github instanceof LoopauthError);
  assert.equal(sent.length, 1);
});

Deno.test("guardedHook, the Octokit strategy's options: default base replaced, own authorization passed, 401 renewed once", async () => {
  const errors: unknown[] = [];
  const { sent, send } = harness({
    apiUrl: GHES,
    defaultBaseUrl: "https://api.github.com",
    ownAuthorizationUnchecked: true,
    what: "the token for ghe.example.com",
    hint: `set Octokit's baseUrl to ${GHES}`,
    token: () => Promise.resolve("gho_old"),
    renew: (refused, error) => {
      errors.push(error);
      if (refused !== "gho_old") throw new Error(`renewed ${refused}`);
      return Promise.resolve("gho_new");
    },
  }, (authorization) => authorization === "token gho_old" ? 401 : 200);

  // Octokit's default base (api.github.com) is the host's API.
  await send("GET /user");
  assert.deepEqual(sent, [
    { url: `${GHES}/user`, authorization: "token gho_old" },
    { url: `${GHES}/user`, authorization: "token gho_new" },
  ]);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as { status?: number }).status, 401);

  // The caller's own credentials go where the caller sends them, untouched.
  await send("GET https://other.example/applications", {
    headers: { authorization: "basic abc" },
  });
  assert.deepEqual(sent.at(-1), {
    url: "https://other.example/applications",
    authorization: "basic abc",
  });

  const refused = await send("GET https://other.example/user").catch((e) => e);
  assert.ok(refused instanceof LoopauthError);
  assert.equal(
    refused.message,
    `Refusing to send the token for ghe.example.com to https://other.example: set Octokit's baseUrl to ${GHES}`,
  );
  assert.equal(sent.length, 3, "the refused request was not sent");
});
