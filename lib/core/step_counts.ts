/**
 * Counts of the steps a login should take once (resolving the host, taking
 * the config directory's lock, …), kept in this process for tests: a test
 * proves "once" by counting, not by timing. Exposed in `./testing`.
 * @module
 */

/** The counted steps. */
export type CountedStep =
  /** A GitHub host name resolved to its endpoints. */
  | "host_resolved"
  /** The config directory's lock (`DIR/lock`) acquired (a re-entrant use is not counted). */
  | "config_lock"
  /** A login's per-host lock (`DIR/login-HASH.lock`) acquired. */
  | "login_lock"
  /** The config directory's ownership and modes checked. */
  | "config_dir_checked"
  /** A host's provider made (`providerFor`: an issuer's discovered). */
  | "provider_made";

const counts = new Map<CountedStep, number>();

/**
 * Counts one `step`.
 *
 * @example
 * ```ts
 * import { countStep } from "./step_counts.ts";
 * countStep("host_resolved");
 * ```
 */
export function countStep(step: CountedStep): void {
  counts.set(step, (counts.get(step) ?? 0) + 1);
}

/**
 * How often each step ran since the last {@linkcode resetStepCounts} (a step
 * that never ran is 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countStep, resetStepCounts, stepCounts } from "./step_counts.ts";
 * resetStepCounts();
 * countStep("config_lock");
 * assert.equal(stepCounts().config_lock, 1);
 * assert.equal(stepCounts().login_lock, 0);
 * ```
 */
export function stepCounts(): Record<CountedStep, number> {
  return {
    host_resolved: counts.get("host_resolved") ?? 0,
    config_lock: counts.get("config_lock") ?? 0,
    login_lock: counts.get("login_lock") ?? 0,
    config_dir_checked: counts.get("config_dir_checked") ?? 0,
    provider_made: counts.get("provider_made") ?? 0,
  };
}

/**
 * Sets every count back to 0.
 *
 * @example
 * ```ts
 * import { resetStepCounts } from "./step_counts.ts";
 * resetStepCounts();
 * ```
 */
export function resetStepCounts(): void {
  counts.clear();
}
