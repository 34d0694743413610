/**
 * Helpers shared by the attack suite (tests/security_test.ts and the files of
 * tests/security/): a listener that must receive nothing, what a config
 * directory holds, git's credential helper with a request on stdin, and the
 * checks that a callback server is still waiting.
 * @module
 */
import assert from "node:assert/strict";
import { LoopauthError } from "../lib/core/errors.ts";
import type { CallbackParams, CallbackServer } from "../lib/flows/callback_server.ts";
import { childEnv, isListening, MAIN, runFlags, runWithInput } from "./helpers.ts";

/** A TCP listener on another loopback port that counts the connections it gets. */
export function otherPort(): { origin: string; connections: () => number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let count = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      count++;
      conn.close();
    }
  })().catch(() => {});
  return {
    origin: `http://127.0.0.1:${listener.addr.port}`,
    connections: () => count,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
    },
  };
}

/** The files of the config directory that hold data (the empty lock files of the store and of a login in progress hold none). */
export async function storedFiles(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name)
      .filter((name) => name !== "lock" && !/^login-[0-9a-f]+\.lock$/.test(name)).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Whether a path exists (a dangling symbolic link counts). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A control character other than the newline that ends a line. */
// deno-lint-ignore no-control-regex
export const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** Tokens that are no RFC 6750 bearer token. */
export const HOSTILE_TOKENS = [
  "gho_x\r\nX-Evil: 1",
  "gho_x\nX-Evil: 1",
  "gho x",
  'gho"x',
  "gho_é",
  "gho=x",
];

/** `loopauth git-credential get` with git's request on stdin; its exit code and stdout. */
export async function gitCredentialGet(
  configHome: string,
  request: string | Uint8Array,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // The helper may stop reading early (git's request ends at its blank line, an oversized
  // one is refused): a closed pipe then is the helper's answer, not a failure.
  return await runWithInput(
    Deno.execPath(),
    ["run", ...runFlags(`${configHome}/loopauth`), MAIN, "git-credential", "get"],
    request,
    { env: childEnv(configHome), mayStopReading: true },
  );
}

/** Calls `fn`; a `LoopauthError` counts as a clean refusal, anything else fails the property. */
export function refusesCleanly<T>(fn: () => T): T | LoopauthError {
  try {
    return fn();
  } catch (error) {
    if (error instanceof LoopauthError) {
      // deno-lint-ignore no-control-regex -- it looks for control characters on purpose
      assert.doesNotMatch(error.message, /[\u0000-\u001f\u007f]/, "one clean line");
      return error;
    }
    throw error;
  }
}

/** The `state` of the callback servers the suite attacks. */
export const STATE = "s".repeat(43);

/** A GET that does not follow redirects. */
export function get(url: string): Promise<Response> {
  return fetch(url, { redirect: "manual" });
}

/**
 * The wait goes on after an attack: the port still listens, and the real
 * callback (`code=abc`) then gets 200 and ends the wait.
 */
export async function assertStillWaiting(server: CallbackServer<CallbackParams>): Promise<void> {
  assert.equal(await isListening(server.port), true, "still waiting");
  const ok = await get(`${server.redirectUri}?state=${STATE}&code=abc`);
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal((await server.result).code, "abc");
}
