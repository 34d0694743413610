/**
 * Token expiry: when an access token counts as expiring (and is refreshed),
 * and when a time has passed.
 * @module
 */

/** Tokens are refreshed when they expire within this many milliseconds. */
export const REFRESH_MARGIN_MS = 60_000;

/**
 * Whether a token with this expiry time should be refreshed now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { needsRefresh } from "./expiry.ts";
 * assert.equal(needsRefresh(new Date(Date.now() + 30_000).toISOString()), true);
 * ```
 */
export function needsRefresh(expiresAt: string | undefined, now = Date.now()): boolean {
  return expiresAt !== undefined && Date.parse(expiresAt) - now <= REFRESH_MARGIN_MS;
}

/**
 * Whether an ISO time (an expiry) has passed; `false` for `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPast } from "./expiry.ts";
 * assert.equal(isPast("2000-01-01T00:00:00Z"), true);
 * ```
 */
export function isPast(time: string | undefined): boolean {
  return time !== undefined && Date.parse(time) <= Date.now();
}
