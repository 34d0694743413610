/**
 * Paste-back: when the browser cannot reach the loopback port (it runs on
 * another machine), the user pastes the address it ended up at, or only the
 * code, into the terminal; it is checked exactly like a browser callback.
 * @module
 */
import type { SubmitResult } from "./callback_server.ts";

/** Options of {@linkcode readPastedCallbacks}. */
export interface PasteBackOptions {
  /** Lines to read (the CLI: stdin, when it is a terminal). */
  input: ReadableStream<Uint8Array>;
  /** Aborting stops reading at once. */
  signal: AbortSignal;
  /** Where one-line messages go (the prompt, and why a paste was refused). */
  write: (line: string) => void;
  /** The callback server's redirect URI, for the prompt. */
  redirectUri: string;
  /** Offer to take the code alone (default true; not when the issuer sends `iss`). */
  codeAlone?: boolean;
}

/**
 * Reads pasted lines and hands each to `submit` until one ends the wait or
 * `signal` aborts. Refused pastes are explained and the wait goes on.
 *
 * @example
 * ```ts ignore
 * import { readPastedCallbacks } from "./paste_back.ts";
 * import { serveCallback } from "./callback_server.ts";
 * const server = serveCallback({ state: crypto.randomUUID() });
 * const stop = new AbortController();
 * void readPastedCallbacks(server.submit, {
 *   input: Deno.stdin.readable, signal: stop.signal, write: console.error, redirectUri: server.redirectUri,
 * });
 * await server.result.finally(() => stop.abort());
 * ```
 */
export async function readPastedCallbacks(
  submit: (input: string) => Promise<SubmitResult>,
  options: PasteBackOptions,
): Promise<void> {
  if (options.signal.aborted) return;
  const reader = options.input.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => void reader.cancel().catch(() => {});
  options.signal.addEventListener("abort", stop, { once: true });
  const what = options.codeAlone === false ? "" : " or the code";
  options.write(
    `If the browser cannot reach this machine, paste the address it ends up at (${options.redirectUri}?…)${what} here and press Enter`,
  );
  let buffer = "";
  try {
    while (!options.signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      // Longer than any callback: drop it rather than grow without bound.
      if (buffer.length > 16_384) buffer = "";
      let newline: number;
      while ((newline = buffer.search(/\r?\n|\r/)) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1).replace(/^\n/, "");
        if (!line || options.signal.aborted) continue;
        const result = await submit(line);
        if (result.ended) return;
        options.write(`Not accepted: ${result.message}`);
      }
    }
  } catch {
    // Reading stopped (cancelled or stdin closed): the browser callback may still come.
  } finally {
    options.signal.removeEventListener("abort", stop);
    stop();
  }
}
