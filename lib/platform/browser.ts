/**
 * Opens a URL in the user's browser: `$BROWSER` first, else the platform's
 * opener (`open`, `cmd /c start`, `wslview`, `xdg-open`).
 * @module
 */
import { startSettled } from "./start_settled.ts";
import { childEnvironment, OPENER_ENV_VARS, withoutSecrets } from "./child_env.ts";

/** Whether a browser was started, and why not. */
export interface OpenResult {
  /** True when an opener started and did not fail at once. */
  opened: boolean;
  /** Why no browser was opened (for a one-line note). */
  reason?: string;
}

/** Options of {@linkcode openBrowser}. */
export interface OpenBrowserOptions {
  /** Environment to decide from (default: `Deno.env`). */
  env?: Record<string, string | undefined>;
  /** Operating system (default: `Deno.build.os`). */
  os?: typeof Deno.build.os;
}

/** An opener that has not exited after this long is taken as started. */
const SETTLE_MS = 2000;

/**
 * The commands that could open `url`, in the order to try them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { browserCommands } from "./browser.ts";
 * assert.deepEqual(browserCommands("https://example.com", { env: {}, os: "darwin" }), [
 *   ["open", "https://example.com"],
 * ]);
 * ```
 */
export function browserCommands(url: string, options: OpenBrowserOptions = {}): string[][] {
  const env = options.env ?? readEnv();
  const os = options.os ?? Deno.build.os;
  if (env.BROWSER) {
    // Like xdg-utils and Python's webbrowser: a colon-separated list of
    // commands, each with %s for the URL or taking it as the last argument.
    return env.BROWSER.split(os === "windows" ? ";" : ":").filter(Boolean).map((entry) => {
      const words = entry.trim().split(/\s+/);
      return words.some((w) => w.includes("%s"))
        ? words.map((w) => w.replaceAll("%s", url))
        : [...words, url];
    });
  }
  if (os === "darwin") return [["open", url]];
  // `start` reads & as a command separator: escape it for cmd.
  if (os === "windows") return [["cmd", "/c", "start", '""', url.replaceAll("&", "^&")]];
  const commands: string[][] = [];
  if (env.WSL_DISTRO_NAME || env.WSL_INTEROP) commands.push(["wslview", url]);
  if (env.DISPLAY || env.WAYLAND_DISPLAY) commands.push(["xdg-open", url]);
  return commands;
}

/**
 * Tries to open `url` in a browser, in this process's environment less the
 * secrets (`SECRET_ENV_VARS` of child_env.ts). Every local user can read the
 * opener's (and the browser's) arguments: `url` must hold no secret. Never throws: a failure is a note for
 * the user, who also has the printed URL.
 *
 * @example
 * ```ts
 * import { openBrowser } from "./browser.ts";
 * const { opened, reason } = await openBrowser("https://example.com");
 * if (!opened) console.error(`Could not open a browser (${reason})`);
 * ```
 */
export async function openBrowser(
  url: string,
  options: OpenBrowserOptions = {},
): Promise<OpenResult> {
  let commands: string[][];
  try {
    commands = browserCommands(url, options);
  } catch {
    return { opened: false, reason: "no permission to read the environment" };
  }
  if (commands.length === 0) return { opened: false, reason: "no display and no $BROWSER" };
  let reason = "no browser opener found";
  for (const command of commands) {
    const [cmd] = command;
    // No token or client secret of this process reaches the browser: `env -u` removes them
    // from everything else it inherits, or (no `env`) it gets only what a browser needs.
    const stripped = withoutSecrets(command);
    const [program, ...args] = stripped ?? command;
    const env = stripped ? undefined : childEnvironment(OPENER_ENV_VARS);
    try {
      const status = await startSettled(program, args, { settleMs: SETTLE_MS, env });
      if (status === undefined || status.success) return { opened: true };
      // Through env: 127 is its "command not found", 126 "found but cannot run".
      reason = stripped && status.code === 127
        ? `${cmd} not found`
        : stripped && status.code === 126
        ? `no permission to run ${cmd}`
        : `${cmd} exited with code ${status.code}`;
    } catch (error) {
      reason =
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
          ? `no permission to run ${cmd}`
          : `${cmd} not found`;
    }
  }
  return { opened: false, reason };
}

function readEnv(): Record<string, string | undefined> {
  const names = ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "WSL_INTEROP"];
  return Object.fromEntries(names.map((name) => [name, Deno.env.get(name)]));
}
