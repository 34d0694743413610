import { LoopauthError } from "./errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest duration: the largest delay a timer takes (2^31 - 1 ms, about
 * 596 h); a longer one fires at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_DURATION_MS, parseDuration } from "./duration.ts";
 * assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), 2147483647);
 * ```
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Parses a duration such as `90s`, `5m`, `1h`, `250ms` or a bare number of
 * seconds into milliseconds, at most {@linkcode MAX_DURATION_MS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 * assert.equal(parseDuration("5m"), 300000);
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  const ms = match ? Number(match[1]) * UNITS[match[2] ?? "s"] : NaN;
  if (Number.isNaN(ms) || ms <= 0) {
    throw new LoopauthError(
      "usage",
      `Invalid duration "${text}": use a number with s, m or h, e.g. 90s or 5m`,
    );
  }
  if (Math.round(ms) > MAX_DURATION_MS) {
    throw new LoopauthError(
      "usage",
      `Invalid duration "${text}": the longest is ${MAX_DURATION_MS}ms (about 596h)`,
    );
  }
  return Math.round(ms);
}

/**
 * Formats milliseconds the way `parseDuration` reads them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./duration.ts";
 * assert.equal(formatDuration(300000), "5m");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
