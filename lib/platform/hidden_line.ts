/**
 * Reading a secret (a passphrase, a client secret, a token) typed or pasted
 * on a terminal without showing it: raw mode, no echo, one line. Written by
 * hand: Deno has no `getpass` (`prompt()` echoes what is typed), and
 * `node:readline` would start the Node layer.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";

/** The longest line taken (a token or passphrase is far shorter). */
const MAX_LINE = 64 * 1024;

/** Where {@linkcode readHiddenLine} reads and writes (default: this process's terminal). */
export interface HiddenLineOptions {
  /** The terminal's input (default `Deno.stdin`). */
  stdin?: Pick<typeof Deno.stdin, "read" | "setRaw">;
  /** Where the prompt goes (default `Deno.stderr`). */
  stderr?: Pick<typeof Deno.stderr, "writeSync">;
}

/**
 * The editing of one hidden line, a chunk of input at a time: Enter ends it,
 * Backspace removes the last whole character (a code point, however many
 * UTF-8 bytes it took), Ctrl-C cancels, Ctrl-D on an empty line ends the
 * input with an error, other control bytes are ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hiddenLineEditor } from "./hidden_line.ts";
 * const editor = hiddenLineEditor();
 * assert.equal(editor.feed(new TextEncoder().encode("caf\u00e9\x7fe")), undefined);
 * assert.equal(editor.feed(new TextEncoder().encode("\r")), "cafe");
 * ```
 */
export function hiddenLineEditor(): {
  /** Takes the next bytes; the line once Enter was pressed, else `undefined`. */
  feed(chunk: Uint8Array): string | undefined;
  /** The input ended (end of file): the line typed so far, or the Ctrl-D error when none. */
  end(): string;
} {
  const typed: number[] = [];
  const line = () => new TextDecoder().decode(new Uint8Array(typed));
  const ended = () => {
    if (typed.length === 0) {
      throw new LoopauthError("cancelled", "Cancelled: the input ended (Ctrl-D) before a line");
    }
    return line();
  };
  return {
    feed(chunk) {
      for (const byte of chunk) {
        if (byte === 0x03) throw new LoopauthError("cancelled", "Cancelled");
        if (byte === 0x0d || byte === 0x0a) return line();
        if (byte === 0x04 && typed.length === 0) return ended();
        if (byte === 0x7f || byte === 0x08) {
          // A UTF-8 character's continuation bytes are 10xxxxxx: drop them and its lead byte.
          while (typed.length && (typed.pop()! & 0xc0) === 0x80) { /* continue */ }
        } else if (byte >= 0x20) typed.push(byte);
        if (typed.length > MAX_LINE) {
          throw new LoopauthError("usage", "The input is too long to be a secret");
        }
      }
      return undefined;
    },
    end: ended,
  };
}

/**
 * Shows `prompt` on stderr and reads one line from the terminal on stdin
 * without echoing it (see {@linkcode hiddenLineEditor} for the keys). The
 * terminal mode is restored whatever happens. The caller makes sure stdin is
 * a terminal.
 *
 * @example
 * ```ts
 * import { readHiddenLine } from "./hidden_line.ts";
 * if (Deno.stdin.isTerminal()) {
 *   const token = await readHiddenLine("Paste the token (it is not shown): ");
 * }
 * ```
 */
export async function readHiddenLine(
  prompt: string,
  options: HiddenLineOptions = {},
): Promise<string> {
  const stdin = options.stdin ?? Deno.stdin;
  const stderr = options.stderr ?? Deno.stderr;
  const encoder = new TextEncoder();
  stderr.writeSync(encoder.encode(prompt));
  stdin.setRaw(true);
  const editor = hiddenLineEditor();
  try {
    const buffer = new Uint8Array(1024);
    while (true) {
      const n = await stdin.read(buffer);
      if (n === null) return editor.end();
      const line = editor.feed(buffer.subarray(0, n));
      if (line !== undefined) return line;
    }
  } finally {
    stdin.setRaw(false);
    stderr.writeSync(encoder.encode("\n"));
  }
}
