/**
 * Outbound requests with a bounded time and one clear error each.
 * @module
 */
import { LoopauthError, permissionError } from "./errors.ts";
import { terminalSafe } from "./text.ts";

/** Default time an outbound request may take. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Options of {@linkcode fetchBounded}. */
export interface FetchBoundedOptions {
  /** Aborting cancels the request (Ctrl-C). */
  signal?: AbortSignal;
  /** Milliseconds before the request is given up (default 30 s). */
  timeout?: number;
  /** What is being reached, for messages, e.g. "the token endpoint of github.com". */
  what: string;
}

/**
 * `fetch` with a timeout; network failures become `LoopauthError("network")`
 * and an abort through `signal` becomes `LoopauthError("cancelled")`.
 *
 * @example
 * ```ts
 * import { fetchBounded } from "./http.ts";
 * const response = await fetchBounded("https://github.com/", { method: "HEAD" }, { what: "github.com" });
 * ```
 */
export async function fetchBounded(
  url: string,
  init: RequestInit,
  options: FetchBoundedOptions,
): Promise<Response> {
  const timeout = options.timeout ?? REQUEST_TIMEOUT_MS;
  const timer = AbortSignal.timeout(timeout);
  const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
  try {
    return await fetch(url, { ...init, signal, redirect: init.redirect ?? "manual" });
  } catch (error) {
    throw networkError(error, options.what, options.signal);
  }
}

/**
 * Turns a failed request into one clear error: cancelled, timed out or
 * unreachable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkError } from "./http.ts";
 * const error = networkError(new TypeError("connection refused"), "github.com");
 * assert.equal(error.message, "Cannot reach github.com: connection refused");
 * ```
 */
export function networkError(error: unknown, what: string, signal?: AbortSignal): LoopauthError {
  if (error instanceof LoopauthError) return error;
  const denied = permissionError(error);
  if (denied) return denied;
  if (signal?.aborted) {
    const reason = signal.reason;
    return reason instanceof LoopauthError
      ? reason
      : new LoopauthError("cancelled", "Cancelled", { cause: reason });
  }
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new LoopauthError(
      "network",
      `No answer from ${what} in time: check your network and try again`,
      { cause: error },
    );
  }
  return new LoopauthError("network", `Cannot reach ${what}: ${failureReason(error)}`, {
    cause: error,
  });
}

/**
 * The last, most specific reason in a chain of fetch errors, without Deno's
 * wrapping ("error sending request for url (…)") or OS error numbers.
 */
function failureReason(error: unknown): string {
  let text = error instanceof Error ? error.message : String(error);
  for (let cause = (error as Error)?.cause; cause instanceof Error; cause = cause.cause) {
    text = cause.message;
  }
  const parts = text.split(/:\s+/).map((p) => p.replace(/\s*\(os error \d+\)/, "").trim())
    .filter(Boolean);
  const reason = parts.at(-1) ?? "unknown error";
  return terminalSafe(reason, { max: 120 }).replace(/^./, (c) => c.toLowerCase());
}
