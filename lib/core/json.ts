/**
 * JSON objects from files, servers and sockets: recognised and parsed once,
 * the same way everywhere.
 * @module
 */

/**
 * True for a plain JSON object (not `null`, not an array).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRecord } from "./json.ts";
 * assert.equal(isRecord(JSON.parse('{"hosts":{}}')), true);
 * assert.equal(isRecord(JSON.parse("[1]")), false);
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The JSON object in `text`, or `undefined` when it is not JSON or not an
 * object (an array, a string, `null`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonObject } from "./json.ts";
 * assert.deepEqual(parseJsonObject('{"error":"slow_down"}'), { error: "slow_down" });
 * assert.equal(parseJsonObject("<html>"), undefined);
 * ```
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(text);
    return isRecord(data) ? data : undefined;
  } catch {
    return undefined;
  }
}
