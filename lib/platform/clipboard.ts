/**
 * Copies text to the system clipboard with whatever tool this machine has:
 * `pbcopy`, `clip.exe`, `wl-copy`, `xclip` or `xsel`. Never throws.
 * @module
 */
import { startSettled } from "./start_settled.ts";

/** Options of {@linkcode copyToClipboard}. */
export interface CopyOptions {
  /** Environment to decide from (default: the variables Deno may read). */
  env?: Record<string, string | undefined>;
  /** Operating system (default: `Deno.build.os`). */
  os?: typeof Deno.build.os;
}

/** A tool still running after this long is taken as done (xclip serves the selection). */
const SETTLE_MS = 1000;

/**
 * The clipboard commands to try, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipboardCommands } from "./clipboard.ts";
 * assert.deepEqual(clipboardCommands({ env: { WAYLAND_DISPLAY: "wayland-0" }, os: "linux" }), [
 *   ["wl-copy"],
 * ]);
 * ```
 */
export function clipboardCommands(options: CopyOptions = {}): string[][] {
  const env = options.env ?? {};
  const os = options.os ?? Deno.build.os;
  if (os === "darwin") return [["pbcopy"]];
  if (os === "windows") return [["clip.exe"]];
  const commands: string[][] = [];
  if (env.WSL_DISTRO_NAME || env.WSL_INTEROP) commands.push(["clip.exe"]);
  if (env.WAYLAND_DISPLAY) commands.push(["wl-copy"]);
  if (env.DISPLAY) {
    commands.push(["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]);
  }
  return commands;
}

/**
 * Copies `text`; returns the tool that took it, or `undefined`.
 *
 * @example
 * ```ts
 * import { copyToClipboard } from "./clipboard.ts";
 * const tool = await copyToClipboard("WDJB-MJHT", { env: { DISPLAY: ":0" } });
 * if (tool) console.error("Copied the code to the clipboard");
 * ```
 */
export async function copyToClipboard(
  text: string,
  options: CopyOptions = {},
): Promise<string | undefined> {
  for (const [cmd, ...args] of clipboardCommands(options)) {
    try {
      const status = await startSettled(cmd, args, { settleMs: SETTLE_MS, input: text });
      if (status === undefined || status.success) return cmd;
    } catch {
      // Not installed, not allowed, or it failed: try the next one.
    }
  }
  return undefined;
}
