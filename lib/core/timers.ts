/**
 * Timers on `AbortSignal.timeout`. In Deno 2 the first `setTimeout` starts
 * the Node compatibility layer (docs/performance.md), which a
 * login and `token` otherwise never need. A timeout signal's timer keeps the
 * process alive only while something listens to it, so a cancelled one costs
 * nothing.
 * @module
 */
import { LoopauthError } from "./errors.ts";

/**
 * Calls `fn` once after `ms` milliseconds; the returned function cancels.
 *
 * @example
 * ```ts
 * import { after } from "./timers.ts";
 * const cancel = after(300_000, () => console.error("Timed out"));
 * cancel();
 * ```
 */
export function after(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(Math.max(0, Math.ceil(ms)));
  const listener = () => fn();
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

/**
 * Waits `ms` milliseconds; an abort of `signal` ends the wait at once with a
 * rejection: its reason when that is a `LoopauthError`, else `cancelled`.
 *
 * @example
 * ```ts
 * import { sleep } from "./timers.ts";
 * await sleep(15);
 * ```
 */
export function sleep(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      const reason = signal?.reason;
      reject(
        reason instanceof LoopauthError
          ? reason
          : new LoopauthError("cancelled", "Cancelled", { cause: reason }),
      );
    };
    const cancel = after(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
}

/**
 * What `promise` resolves to, or `undefined` when `ms` milliseconds pass
 * first (the promise keeps running).
 *
 * @example
 * ```ts ignore
 * import { within } from "./timers.ts";
 * const status = await within(new Deno.Command("true").spawn().status, 500);
 * if (status === undefined) console.error("still running");
 * ```
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let cancel = () => {};
  const timedOut = new Promise<undefined>((resolve) =>
    cancel = after(ms, () => resolve(undefined))
  );
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    cancel();
  }
}
