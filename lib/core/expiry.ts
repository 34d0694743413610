/**
 * Token expiry: when an access token counts as expiring (and is refreshed),
 * and when a time has passed.
 * @module
 */
import { terminalSafe } from "./text.ts";

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

/**
 * An expiry for people: how long until (or since) it, in the two largest
 * units, then the time in UTC to the minute. A time that is no time is shown
 * as it is.
 *
 * @example Seven hours and 59 minutes ahead
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeExpiry } from "./expiry.ts";
 * const now = Date.parse("2026-12-06T13:41:00Z");
 * assert.equal(
 *   describeExpiry("2026-12-06T21:40:00Z", now),
 *   "expires in 7h 59m (2026-12-06 21:40 UTC)",
 * );
 * assert.equal(describeExpiry("2026-12-06T13:38:00Z", now), "expired 3m ago (2026-12-06 13:38 UTC)");
 * ```
 */
export function describeExpiry(time: string, now = Date.now()): string {
  const at = Date.parse(time);
  if (Number.isNaN(at)) return `expires ${terminalSafe(time, { max: 40 })}`;
  const utc = `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const span = humanSpan(Math.abs(at - now));
  return at > now ? `expires in ${span} (${utc})` : `expired ${span} ago (${utc})`;
}

/** A span in its two largest units: `2d 3h`, `7h 59m`, `12m`, `40s`. */
function humanSpan(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const units: [string, number][] = [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
    if (parts.length === 2) break;
  }
  const shown = parts.filter((part, i) => i === 0 || !part.startsWith("0"));
  return shown.length ? shown.join(" ") : "0s";
}
