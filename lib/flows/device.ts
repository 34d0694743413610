/**
 * The device authorization grant (RFC 8628) in GitHub's variant: ask for a
 * code, show it, poll the token endpoint at the server's pace until the user
 * has entered it (or denied, or the code expired).
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import type { DeviceCode, DeviceGrant, TokenSet } from "../core/types.ts";
import { formatDuration } from "../core/duration.ts";
import { sleep } from "../core/timers.ts";

/** Options of {@linkcode deviceFlow}. */
export interface DeviceFlowOptions {
  /** Scopes to ask for. */
  scopes?: string[];
  /** Aborting stops polling at once (Ctrl-C). */
  signal?: AbortSignal;
  /** Milliseconds to wait at most (default: until the code expires). */
  timeout?: number;
  /**
   * Called with the code to show; `signal` aborts when the flow ends (stop a
   * countdown there), `expiresAt` is when the code expires (ms since the epoch,
   * from when it was received).
   */
  onDeviceCode?: (
    code: DeviceCode,
    context: { signal: AbortSignal; expiresAt: number },
  ) => void | Promise<void>;
  /**
   * Called once with a one-line hint when the server keeps answering
   * `slow_down` ({@linkcode CLOCK_DRIFT_AFTER} times): a clock running fast.
   */
  onWarning?: (message: string) => void;
}

/** Milliseconds each `slow_down` adds to the interval, for that poll and all later ones (RFC 8628 §3.5). */
const SLOW_DOWN_MS = 5_000;
const MIN_INTERVAL_MS = 100;
/**
 * How much slower than the interval it polls, before and after a
 * `slow_down` (as gh): a timer or a clock (VMs, WSL) a little fast must not
 * make a poll early.
 */
const MARGIN = 1.2;
const MARGIN_AFTER_SLOW_DOWN = 1.4;
/**
 * After this many `slow_down` answers the clock-drift hint is shown (once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLOCK_DRIFT_AFTER } from "./device.ts";
 * assert.equal(CLOCK_DRIFT_AFTER, 2);
 * ```
 */
export const CLOCK_DRIFT_AFTER = 2;

/**
 * Runs the device flow once and returns the tokens.
 *
 * @example
 * ```ts ignore
 * import { deviceFlow } from "./device.ts";
 * import { gitHubDeviceGrant } from "../providers/github.ts";
 * import { resolveGitHubHost } from "../providers/github_host.ts";
 * const tokens = await deviceFlow(gitHubDeviceGrant(resolveGitHubHost(), "Iv1.abc"), {
 *   onDeviceCode: (code) => console.error(`Enter ${code.userCode} at ${code.verificationUri}`),
 * });
 * ```
 */
export async function deviceFlow(
  grant: DeviceGrant,
  options: DeviceFlowOptions,
): Promise<TokenSet> {
  const { signal } = options;
  const code = await grant.request({ scopes: options.scopes, signal });
  const started = Date.now();
  const expiresAt = started + code.expiresIn * 1000;
  const deadline = Math.min(expiresAt, started + (options.timeout ?? Infinity));
  const ended = new AbortController();
  try {
    await options.onDeviceCode?.(code, { signal: ended.signal, expiresAt });
    // A floor, so a server that says 0 is not hammered.
    let interval = Math.max(code.interval * 1000, MIN_INTERVAL_MS);
    let slowDowns = 0;
    while (true) {
      const left = deadline - Date.now();
      const wait = interval * (slowDowns > 0 ? MARGIN_AFTER_SLOW_DOWN : MARGIN);
      await sleep(Math.max(0, Math.min(wait, left)), { signal });
      if (Date.now() >= deadline) {
        throw deadline < expiresAt
          ? new LoopauthError(
            "timeout",
            `Timed out after ${
              formatDuration(options.timeout!)
            } waiting for the code to be entered: run the command again, or wait longer with --timeout`,
          )
          : new LoopauthError(
            "timeout",
            "The device code expired before it was entered: run the command again",
          );
      }
      const poll = await grant.poll(code.deviceCode, { signal });
      if (poll.status === "done") return poll.tokens;
      if (poll.status === "slow_down") {
        // 5 s more, or the server's new interval when that is longer (GitHub names one).
        interval = Math.max(interval + SLOW_DOWN_MS, (poll.interval ?? 0) * 1000);
        if (++slowDowns === CLOCK_DRIFT_AFTER) {
          options.onWarning?.(
            "the server keeps asking to poll more slowly: is this machine's clock running fast? (VMs and WSL often drift)",
          );
        }
      }
    }
  } finally {
    ended.abort();
  }
}
