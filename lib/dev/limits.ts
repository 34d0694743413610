/**
 * The built-in provider's bounds on memory: how large a request body it
 * reads (larger ones get 413), and how much of its request log it keeps.
 * @module
 */
import type { RecordedRequest } from "./types.ts";

/** The largest body of an OAuth, API or GraphQL request, and of a form: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The largest body git may send (a push's pack): 32 MiB. */
export const MAX_GIT_BODY_BYTES = 32 * 1024 * 1024;

/** How many recent requests the log keeps. */
export const LOG_ENTRIES = 1_000;

/** How much of each body the log keeps, in characters: 64 KiB. */
export const LOG_BODY_CHARS = 64 * 1024;

/**
 * The request's body, read up to `max` bytes, or `undefined` when it is
 * larger: a `Content-Length` over `max` is refused before a byte is read,
 * and a chunked body is cut off as soon as it passes `max`. (By hand:
 * `Request.arrayBuffer()` reads any length into memory.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBody } from "./limits.ts";
 * const request = new Request("http://127.0.0.1/", { method: "POST", body: "a=1" });
 * assert.deepEqual(await readBody(request, 2), undefined);
 * ```
 */
export async function readBody(request: Request, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > max) {
    await request.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(length);
  chunks.reduce((at, chunk) => (body.set(chunk, at), at + chunk.length), 0);
  return body;
}

/**
 * Adds `entry` to `log`, keeping the last {@linkcode LOG_ENTRIES} entries and
 * the first {@linkcode LOG_BODY_CHARS} characters of each body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LOG_BODY_CHARS, record } from "./limits.ts";
 * const log: Parameters<typeof record>[0] = [];
 * record(log, { method: "POST", path: "/", headers: {}, body: "x".repeat(70_000), time: 0 });
 * assert.equal(log[0].body.length, LOG_BODY_CHARS);
 * ```
 */
export function record(log: RecordedRequest[], entry: RecordedRequest): void {
  log.push(
    entry.body.length > LOG_BODY_CHARS
      ? { ...entry, body: entry.body.slice(0, LOG_BODY_CHARS) }
      : entry,
  );
  if (log.length > LOG_ENTRIES) log.splice(0, log.length - LOG_ENTRIES);
}
