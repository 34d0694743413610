/**
 * CSRF tokens for the built-in provider's forms (the consent page, the
 * device page): each render of a form gets a random token in a hidden
 * field, bound to that form; a POST must bring it back, and it is spent on
 * its first use. A page on another site can make the browser post a form
 * here but cannot read a page of this origin, so it never has a token.
 * @module
 */
import { randomToken } from "./responses.ts";

/** How long a rendered form may wait for its user. */
const FORM_TTL_MS = 30 * 60_000;

/** Most tokens kept at once: the oldest go first (a page reloaded in a loop costs no memory). */
const MAX_TOKENS = 1_000;

/** The hidden field that carries the token. */
export const CSRF_FIELD = "csrf";

/** The tokens of {@linkcode formTokens}. */
export interface FormTokens {
  /** A new token for one render of `form` (e.g. `device`, or `consent:ID`). */
  issue(form: string): string;
  /** Whether `token` was issued for `form` and is unspent and fresh; it is spent either way. */
  take(form: string, token: string | null): boolean;
}

/**
 * A store of single-use form tokens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formTokens } from "./form_tokens.ts";
 * const tokens = formTokens();
 * const token = tokens.issue("device");
 * assert.equal(tokens.take("consent:1", token), false); // another form's: refused, and spent
 * assert.equal(tokens.take("device", tokens.issue("device")), true);
 * ```
 */
export function formTokens(): FormTokens {
  const issued = new Map<string, { form: string; expires: number }>();
  return {
    issue(form: string): string {
      const token = randomToken("", 32);
      issued.set(token, { form, expires: Date.now() + FORM_TTL_MS });
      while (issued.size > MAX_TOKENS) issued.delete(issued.keys().next().value!);
      return token;
    },
    take(form: string, token: string | null): boolean {
      if (!token) return false;
      const entry = issued.get(token);
      issued.delete(token);
      return entry !== undefined && entry.form === form && entry.expires > Date.now();
    },
  };
}
