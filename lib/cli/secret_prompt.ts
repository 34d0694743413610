/**
 * Reading a secret typed or pasted on a terminal without showing it: raw
 * mode, no echo, one line. Written by hand: Deno has no such prompt
 * (`prompt()` echoes what is typed).
 * @module
 */
import { LoopauthError } from "../core/errors.ts";

/** The longest line taken (a token is far shorter). */
const MAX_LINE = 64 * 1024;

/**
 * Shows `prompt` on stderr and reads one line from the terminal on stdin
 * without echoing it; Backspace deletes, Ctrl-C cancels (`cancelled`),
 * Ctrl-D on an empty line ends with `""`. The terminal mode is restored
 * whatever happens.
 *
 * @example
 * ```ts
 * import { readHiddenLine } from "./secret_prompt.ts";
 * if (Deno.stdin.isTerminal()) {
 *   const token = await readHiddenLine("Paste the token (it is not shown): ");
 * }
 * ```
 */
export async function readHiddenLine(prompt: string): Promise<string> {
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  try {
    const buffer = new Uint8Array(1024);
    while (true) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x03) throw new LoopauthError("cancelled", "Cancelled");
        if (byte === 0x0d || byte === 0x0a || (byte === 0x04 && bytes.length === 0)) {
          return new TextDecoder().decode(new Uint8Array(bytes));
        }
        if (byte === 0x7f || byte === 0x08) bytes.pop();
        else if (byte >= 0x20) bytes.push(byte);
        if (bytes.length > MAX_LINE) {
          throw new LoopauthError("usage", "The input is too long to be a token");
        }
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
}
