/**
 * Escaping for the two places that show text loopauth did not write:
 * HTML pages and the terminal.
 * @module
 */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./text.ts";
 * assert.equal(escapeHtml("<script>"), "&lt;script&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Makes text from a server safe for one terminal line: control characters
 * (escape sequences, newlines) and invisible format characters (bidi
 * overrides, line separators) become spaces and the length is capped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { terminalSafe } from "./text.ts";
 * assert.equal(terminalSafe("bad\x1b[2Jthing\n"), "bad [2Jthing");
 * assert.equal(terminalSafe("x\u202eevil\u2028line"), "x evil line");
 * ```
 */
export function terminalSafe(text: string, options: { max?: number } = {}): string {
  const max = options.max ?? 300;
  // Control characters, and the invisible ones that reorder or break a line (bidi overrides,
  // line and paragraph separators, zero-width characters: Unicode Cf, Zl, Zp).
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]+/gu, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Hides a URL's user name and password (everything before an `@` in the
 * authority, or before the first `@` of a bare `user:pass@host`), so that a
 * message can show what was typed without the secret in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hideUserinfo } from "./text.ts";
 * assert.equal(hideUserinfo("https://me:hunter2@ghe.example.com"), "https://…@ghe.example.com");
 * ```
 */
export function hideUserinfo(text: string): string {
  return text.replace(/^([^/?#@]*:\/\/)?[^/?#]*@/, "$1…@");
}

/**
 * An error's message (or any message) made the tail of another sentence:
 * its first letter in lower case, as in `Cannot log out (cannot reach
 * github.com)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asReason } from "./text.ts";
 * assert.equal(asReason(new Error("Cannot reach github.com")), "cannot reach github.com");
 * assert.equal(asReason("No answer"), "no answer");
 * ```
 */
export function asReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^./, (c) => c.toLowerCase());
}

/**
 * Text folded at spaces into lines of at most `width` characters (default
 * 80; a longer word keeps a line of its own).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wrapLines } from "./text.ts";
 * assert.equal(wrapLines("one two three", { width: 8 }), "one two\nthree");
 * ```
 */
export function wrapLines(text: string, options: { width?: number } = {}): string {
  const width = options.width ?? 80;
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join("\n");
}
