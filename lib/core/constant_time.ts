/**
 * Comparing secrets (the callback's `state`, the agent's key) without a
 * timing side channel.
 * @module
 */

/**
 * Whether two strings are equal, in a time that does not depend on where
 * they differ. Strings of different lengths are unequal at once: the length
 * is not secret (the state's and the agent key's are fixed and public), the
 * content is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantTimeEqual } from "./constant_time.ts";
 * assert.equal(constantTimeEqual("abc", "abc"), true);
 * assert.equal(constantTimeEqual("abc", "abd"), false);
 * assert.equal(constantTimeEqual("abc", "abcd"), false);
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.length !== right.length) return false;
  // By hand rather than node:crypto's timingSafeEqual: loading node:crypto
  // slows a login's start (docs/performance.md). Every byte is compared, always.
  let diff = 0;
  for (let i = 0; i < left.length; i++) diff |= left[i] ^ right[i];
  return diff === 0;
}
