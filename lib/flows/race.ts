/**
 * Runs login flows side by side: the first to claim the login wins, the
 * others are aborted and awaited, so no poller is left and no port stays
 * open when the race returns.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";

/** What each contender gets. */
export interface RaceContext {
  /** Aborted when another contender won, or on the caller's abort. */
  signal: AbortSignal;
  /**
   * Call when this contender has the user's grant, before storing anything:
   * throws when another contender already won.
   */
  claim: () => void;
}

/** Options of {@linkcode raceFlows}. */
export interface RaceFlowsOptions {
  /** Aborting stops every contender. */
  signal?: AbortSignal;
  /**
   * Errors that only take their contender out of the race (e.g. a host
   * without the device flow, or one flow timing out while another still
   * waits); any other error ends the race.
   */
  dropsOut?: (error: unknown, name: string) => boolean;
  /** Called when a contender drops out while others go on. */
  onDropOut?: (name: string, error: unknown) => void;
}

/**
 * Races `contenders` and returns the winner's name and value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { raceFlows } from "./race.ts";
 * const { winner } = await raceFlows({
 *   // Waits until the winner aborts it (started first, so it listens before that).
 *   slow: ({ signal }) => new Promise((_, reject) => signal.onabort = () => reject(signal.reason)),
 *   fast: ({ claim }) => { claim(); return Promise.resolve(1); },
 * });
 * assert.equal(winner, "fast");
 * ```
 */
export async function raceFlows<T>(
  contenders: Record<string, (context: RaceContext) => Promise<T>>,
  options: RaceFlowsOptions = {},
): Promise<{ winner: string; value: T }> {
  const names = Object.keys(contenders);
  const controllers = new Map(names.map((name) => [name, new AbortController()]));
  let winner: string | undefined;
  let decided: { error: unknown } | undefined;
  let running = names.length;
  const stopOthers = (except: string, reason: LoopauthError) => {
    for (const [name, controller] of controllers) if (name !== except) controller.abort(reason);
  };
  const lost = new LoopauthError("cancelled", "Another login flow finished first");
  const runs = names.map(async (name) => {
    const own = controllers.get(name)!.signal;
    const signal = options.signal ? AbortSignal.any([options.signal, own]) : own;
    const claim = () => {
      if (winner !== undefined && winner !== name) throw lost;
      winner = name;
      stopOthers(name, lost);
    };
    try {
      const value = await contenders[name]({ signal, claim });
      claim(); // a contender that forgot to claim wins when it returns
      return value;
    } catch (error) {
      running--;
      if (winner === undefined && decided === undefined) {
        if (running > 0 && !options.signal?.aborted && (options.dropsOut?.(error, name) ?? false)) {
          options.onDropOut?.(name, error);
        } else {
          decided = { error };
          stopOthers(name, lost);
        }
      }
      throw error;
    }
  });
  const results = await Promise.allSettled(runs);
  if (winner !== undefined) {
    const result = results[names.indexOf(winner)];
    if (result.status === "fulfilled") return { winner, value: result.value };
    throw result.reason;
  }
  if (decided) throw decided.error;
  // Unreachable: without a winner some contender decided.
  throw new LoopauthError("cancelled", "Login cancelled");
}
