/**
 * Starting a helper program that may keep running (a browser opener, a
 * clipboard tool that serves the selection).
 * @module
 */
import { within } from "../core/timers.ts";

/**
 * Starts `cmd` with its output discarded (and with `env`, only that
 * environment), writes `input` to its stdin when given, and waits up to `settleMs` for it to exit. Returns its exit status,
 * or `undefined` when it is still running (it then no longer keeps this
 * process alive). Throws when it cannot be started.
 *
 * @example
 * ```ts ignore
 * import { startSettled } from "./start_settled.ts";
 * const status = await startSettled("xdg-open", ["https://example.com"], { settleMs: 1000 });
 * const started = status === undefined || status.success;
 * ```
 */
export async function startSettled(
  cmd: string,
  args: string[],
  options: { settleMs: number; input?: string; env?: Record<string, string> },
): Promise<Deno.CommandStatus | undefined> {
  const child = new Deno.Command(cmd, {
    args,
    // Given an environment, the child gets that one alone.
    ...(options.env ? { env: options.env, clearEnv: true } : {}),
    stdin: options.input === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  if (options.input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.input));
    await writer.close();
  }
  const status = await within(child.status, options.settleMs);
  if (status === undefined) child.unref();
  return status;
}
