/**
 * What a token may look like: RFC 6750's `b64token`, the characters a bearer
 * token can have in an `Authorization` header. A token with anything else
 * (a CR/LF, a space, a quote) would break the header, the error line that
 * reports the failure, or the browser page.
 * @module
 */

/**
 * Whether `token` is an RFC 6750 `b64token`: letters, digits and
 * `-._~+/`, then optional trailing `=`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBearerToken } from "./token_syntax.ts";
 * assert.equal(isBearerToken("gho_16C7e42F292c6912E7710c838347Ae178B4a"), true);
 * assert.equal(isBearerToken("gho_x\r\nX-Injected: 1"), false);
 * ```
 */
export function isBearerToken(token: unknown): token is string {
  return typeof token === "string" && /^[A-Za-z0-9\-._~+/]+=*$/.test(token);
}

/**
 * The part of a message that says why a token was refused; it never
 * contains the token.
 *
 * @example
 * ```ts
 * import { NOT_A_BEARER_TOKEN } from "./token_syntax.ts";
 * console.error(`GH_TOKEN ${NOT_A_BEARER_TOKEN}`);
 * ```
 */
export const NOT_A_BEARER_TOKEN =
  "holds characters a token cannot have (RFC 6750: letters, digits, -._~+/ and a trailing =)";

/**
 * `text` with every copy of `token` replaced by `…`: a server's error
 * message may quote the token it was sent, and no message shows a token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutToken } from "./token_syntax.ts";
 * assert.equal(withoutToken("Bad credentials (token gho_abc)", "gho_abc"), "Bad credentials (token …)");
 * ```
 */
export function withoutToken(text: string, token: string): string {
  return token === "" ? text : text.replaceAll(token, "…");
}
