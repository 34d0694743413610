/**
 * Asking for a passphrase on the terminal without echoing it: the prompt
 * on stderr, the keys read in raw mode from stdin (hand-written: Deno has
 * no `getpass`, and `node:readline` would start the Node layer).
 * @module
 */
import { LoopauthError } from "../core/errors.ts";

/**
 * Reads one line from the terminal without echo; `undefined` when stdin is
 * not a terminal. Backspace deletes, Ctrl-C and Ctrl-D (on an empty line)
 * cancel with a `cancelled` error.
 *
 * @example
 * ```ts
 * import { askPassphrase } from "./passphrase.ts";
 * const passphrase = await askPassphrase("Passphrase for tokens.enc: ");
 * ```
 */
export async function askPassphrase(prompt: string): Promise<string | undefined> {
  if (!Deno.stdin.isTerminal()) return undefined;
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const typed: number[] = [];
  const buffer = new Uint8Array(64);
  try {
    while (true) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) throw new LoopauthError("cancelled", "Cancelled");
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 13 || byte === 10) return new TextDecoder().decode(new Uint8Array(typed));
        if (byte === 3 || (byte === 4 && typed.length === 0)) {
          throw new LoopauthError("cancelled", "Cancelled");
        }
        if (byte === 127 || byte === 8) {
          // Drop the last character with its UTF-8 continuation bytes.
          while (typed.length && (typed.pop()! & 0xc0) === 0x80) { /* continue */ }
        } else if (byte >= 32 || byte >= 0x80) typed.push(byte);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
}
