// deno-lint-ignore-file no-control-regex -- these tests look for control characters on purpose
/**
 * Property-based tests (fast-check): no input crashes or hangs the parsers
 * of things loopauth did not write: callbacks, token answers, host names,
 * durations and the config file.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { serveCallback } from "../lib/flows/callback_server.ts";
import { parseDuration } from "../lib/core/duration.ts";
import { LoopauthError } from "../lib/core/errors.ts";
import { parseTokenResponse, resolveGitHubHost } from "../lib/providers/github.ts";
import { configPath, readConfig } from "../lib/store/config.ts";
import { terminalSafe } from "../lib/core/text.ts";
import { tempConfig } from "./helpers.ts";

/** Calls `fn`; a `LoopauthError` counts as a clean refusal, anything else fails the property. */
function refusesCleanly<T>(fn: () => T): T | LoopauthError {
  try {
    return fn();
  } catch (error) {
    if (error instanceof LoopauthError) {
      assert.doesNotMatch(error.message, /[\u0000-\u001f\u007f]/, "one clean line");
      return error;
    }
    throw error;
  }
}

const jsonish = fc.oneof(
  fc.string(),
  fc.json(),
  fc.record({
    access_token: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    token_type: fc.oneof(fc.string(), fc.constant(undefined)),
    scope: fc.oneof(fc.string(), fc.array(fc.string())),
    expires_in: fc.oneof(fc.integer(), fc.double(), fc.string()),
    refresh_token: fc.oneof(fc.string(), fc.constant(undefined)),
    error: fc.oneof(fc.string(), fc.constant(undefined)),
    error_description: fc.oneof(fc.string(), fc.constant(undefined)),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
);

Deno.test("token answers: any body and status gives tokens or one clean error", () => {
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 599 }), jsonish, (status, body) => {
      const result = refusesCleanly(() => parseTokenResponse(status, body, "github.com"));
      if (!(result instanceof LoopauthError)) {
        assert.equal(typeof result.accessToken, "string");
        assert.ok(result.accessToken.length > 0);
        assert.ok(Array.isArray(result.scopes));
        if (result.expiresAt) assert.ok(!Number.isNaN(Date.parse(result.expiresAt)));
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("host names and durations: any string is accepted or refused cleanly", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.domain()), (input) => {
      const host = refusesCleanly(() => resolveGitHubHost(input));
      if (!(host instanceof LoopauthError)) {
        assert.ok(
          host.origin.startsWith("https://") || /^http:\/\/(127\.|\[::1\])/.test(host.origin),
        );
      }
      refusesCleanly(() => parseDuration(input));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("terminalSafe leaves no control characters", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => {
      assert.doesNotMatch(terminalSafe(text), /[\u0000-\u001f\u007f-\u009f]/);
    }),
  );
});

Deno.test("callbacks: random targets get a 4xx, never end the wait, never echo unescaped", async () => {
  const state = "S".repeat(43);
  const server = serveCallback({ state, timeout: 60_000 });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant("/callback"),
          fc.webPath(),
          fc.string().map((s) => `/${encodeURIComponent(s)}`),
        ),
        fc.dictionary(
          fc.constantFrom("state", "code", "error", "error_description", "iss", "x"),
          fc.string(),
        ),
        async (path, query) => {
          if (query.state === state) delete query.state;
          const url = `${base}${path.startsWith("/") ? path : `/${path}`}?${new URLSearchParams(
            query,
          )}`;
          const response = await fetch(url, { redirect: "manual" });
          const body = await response.text();
          assert.ok(response.status >= 400 && response.status < 500, `${url} → ${response.status}`);
          for (const value of Object.values(query)) {
            if (/[<>"']/.test(value) && value.length > 3) {
              assert.ok(!body.includes(value), "escaped");
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    const ok = await fetch(`${base}/callback?state=${state}&code=c`);
    await ok.body?.cancel();
    assert.equal(ok.status, 200, "the real callback still ends the wait");
    assert.equal((await server.result).code, "c");
  } finally {
    await fetch(`${base}/callback?state=${state}&code=c`).then((r) => r.body?.cancel()).catch(
      () => {},
    );
    await server.result.catch(() => {});
  }
});

Deno.test("config file: any content is read or refused cleanly", async () => {
  await using config = await tempConfig();
  await Deno.mkdir(config.dir, { recursive: true });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ hosts: v }))),
      async (text) => {
        await Deno.writeTextFile(configPath(config.dir), text);
        try {
          await readConfig(config.dir);
        } catch (error) {
          assert.ok(error instanceof LoopauthError, String(error));
          assert.equal(error.code, "storage");
        }
      },
    ),
    { numRuns: 300 },
  );
});
