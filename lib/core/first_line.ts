/** The first line of a child's output. @module */

/**
 * The first line of a stream (without its newline); `undefined` when it ends
 * without one. The rest of the stream is cancelled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstLine } from "./first_line.ts";
 * const stream = new Blob(["ready 42\nmore\n"]).stream();
 * assert.equal(await firstLine(stream), "ready 42");
 * ```
 */
export async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string | undefined> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    text += value;
  }
  reader.cancel().catch(() => {});
  return text.slice(0, text.indexOf("\n"));
}
