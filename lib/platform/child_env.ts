/**
 * The environment a child program gets: only what it needs. loopauth's own
 * may hold tokens (`GH_TOKEN`, `LOOPAUTH_TOKEN`, …) and the client secret,
 * and a browser or a 12-hour agent has no use for them.
 * @module
 */
import { readEnv } from "../core/env_vars.ts";

/**
 * The variables of loopauth's environment that hold a secret: a browser
 * opener (and the browser it may start, which keeps its environment for the
 * whole session) gets everything else, since what a desktop's browser needs
 * is open-ended (KDE's `KDE_SESSION_VERSION` decides xdg-open's opener,
 * proxies, input methods, locales, scaling), but never these.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SECRET_ENV_VARS } from "./child_env.ts";
 * assert.ok(SECRET_ENV_VARS.includes("GH_TOKEN"));
 * ```
 */
export const SECRET_ENV_VARS: readonly string[] = [
  "GH_TOKEN",
  "GITHUB_TOKEN",
  "GH_ENTERPRISE_TOKEN",
  "GITHUB_ENTERPRISE_TOKEN",
  "LOOPAUTH_TOKEN",
  "LOOPAUTH_CLIENT_SECRET",
];

/**
 * The opener's command with the secret variables removed from the
 * environment it inherits: `env -u NAME … cmd args` (POSIX `env`, given
 * names only, never a value), where Deno may run `env`; otherwise
 * `undefined`, and the opener gets {@linkcode OPENER_ENV_VARS} alone.
 *
 * @example
 * ```ts
 * import { withoutSecrets } from "./child_env.ts";
 * const command = withoutSecrets(["xdg-open", "http://127.0.0.1:8000/start/abc"]);
 * // ["env", "-u", "GH_TOKEN", …, "xdg-open", "http://127.0.0.1:8000/start/abc"]
 * ```
 */
export function withoutSecrets(command: readonly string[]): string[] | undefined {
  if (Deno.build.os === "windows") return undefined;
  if (Deno.permissions.querySync({ name: "run", command: "env" }).state !== "granted") {
    return undefined;
  }
  return ["env", ...SECRET_ENV_VARS.flatMap((name) => ["-u", name]), "--", ...command];
}

/**
 * Where `env` cannot strip the secrets (Windows, or no permission to run
 * it): what a browser opener (`$BROWSER`, `xdg-open`, `wslview`, `open`,
 * `cmd /c start`) and the browser it starts need: where programs are, the
 * display and its authorization, the desktop (xdg-open's choice of opener,
 * the `.desktop` files of snap and Flatpak browsers), the language, WSL's
 * interop and Windows' own variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPENER_ENV_VARS } from "./child_env.ts";
 * assert.ok(!OPENER_ENV_VARS.includes("GH_TOKEN"));
 * ```
 */
export const OPENER_ENV_VARS: readonly string[] = [
  "PATH",
  "HOME",
  "USERPROFILE",
  "APPDATA",
  "TEMP",
  "TMPDIR",
  "SystemRoot",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "XAUTHORITY",
  "XDG_RUNTIME_DIR",
  "XDG_CONFIG_HOME",
  "XDG_DATA_DIRS",
  "XDG_CURRENT_DESKTOP",
  "XDG_SESSION_TYPE",
  "DBUS_SESSION_BUS_ADDRESS",
  "BROWSER",
  "LANG",
  "WSL_DISTRO_NAME",
  "WSL_INTEROP",
];

/**
 * What the background agent needs: `LOOPAUTH_DEBUG` (all the agent reads)
 * and what Deno running it reads to find its module cache and certificates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AGENT_ENV_VARS } from "./child_env.ts";
 * assert.ok(AGENT_ENV_VARS.includes("LOOPAUTH_DEBUG"));
 * ```
 */
export const AGENT_ENV_VARS: readonly string[] = [
  "LOOPAUTH_DEBUG",
  "HOME",
  "PATH",
  "SystemRoot",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
];

/**
 * What the waiter of a two-step login (`login --no-wait`) needs: where the
 * config directory and the agent are, the keyring's bus and the encrypted
 * store's passphrase file, the proxies and certificates of its requests, and
 * what Deno running it reads. Never a token nor the client secret (that one
 * reaches it on stdin), nor the display: it opens no browser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WAITER_ENV_VARS } from "./child_env.ts";
 * assert.ok(!WAITER_ENV_VARS.includes("LOOPAUTH_CLIENT_SECRET"));
 * ```
 */
export const WAITER_ENV_VARS: readonly string[] = [
  ...AGENT_ENV_VARS,
  "USERPROFILE",
  "APPDATA",
  "XDG_CONFIG_HOME",
  "XDG_RUNTIME_DIR",
  "TEMP",
  "TMPDIR",
  "LOOPAUTH_KEYRING_TIMEOUT",
  "LOOPAUTH_AGENT",
  "LOOPAUTH_PASSPHRASE_FILE",
  "DBUS_SESSION_BUS_ADDRESS",
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
  "NO_PROXY",
  "no_proxy",
];

/**
 * The set variables of `names` that this process may read, for a child
 * started with `clearEnv: true` (the others, and every token, stay out).
 *
 * @example
 * ```ts
 * import { childEnvironment, OPENER_ENV_VARS } from "./child_env.ts";
 * new Deno.Command("xdg-open", {
 *   args: ["http://127.0.0.1:8000/start/…"],
 *   clearEnv: true,
 *   env: childEnvironment(OPENER_ENV_VARS),
 * });
 * ```
 */
export function childEnvironment(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(readEnv(names)).filter((entry): entry is [string, string] =>
      entry[1] !== undefined
    ),
  );
}
