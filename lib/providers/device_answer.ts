/**
 * What an RFC 8628 poll's error answer means (§3.5), for the providers that
 * speak the RFC (an issuer's, a resource's authorization server): wait,
 * slow down, or end the device route with one line.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import type { DevicePoll } from "../core/types.ts";

/** What a failed poll carried: its OAuth error code, HTTP status and the error itself. */
export interface DevicePollError {
  /** The `error` of the answer. */
  oauthError: string | undefined;
  /** The HTTP status. */
  status?: number;
  /** The error it came as. */
  cause: unknown;
}

/**
 * The poll's outcome for an RFC 8628 error answer: `pending` or
 * `slow_down`. Throws a `timeout` (expired code) or `access_denied`
 * {@linkcode LoopauthError}, and for any other error the error it came as
 * (the caller's own).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { devicePollAnswer } from "./device_answer.ts";
 * assert.deepEqual(devicePollAnswer({ oauthError: "authorization_pending", cause: null }), {
 *   status: "pending",
 * });
 * assert.throws(
 *   () => devicePollAnswer({ oauthError: "access_denied", cause: null }),
 *   { message: "Access was denied: nothing was stored" },
 * );
 * const own = new Error("invalid_client");
 * assert.throws(() => devicePollAnswer({ oauthError: "invalid_client", cause: own }), own);
 * ```
 */
export function devicePollAnswer(
  answer: DevicePollError,
): Extract<DevicePoll, { status: "pending" | "slow_down" }> {
  const details = { cause: answer.cause, status: answer.status, oauthError: answer.oauthError };
  switch (answer.oauthError) {
    case "authorization_pending":
      return { status: "pending" };
    case "slow_down":
      return { status: "slow_down" };
    case "expired_token":
      throw new LoopauthError(
        "timeout",
        "The device code expired before it was entered: run the command again",
        details,
      );
    case "access_denied":
      throw new LoopauthError("access_denied", "Access was denied: nothing was stored", details);
  }
  throw answer.cause;
}
