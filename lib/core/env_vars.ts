/** The environment variables loopauth reads. @module */

/**
 * The environment variables loopauth reads, and why: the one list behind
 * every documented `--allow-env` flag. One more, `DBUS_SESSION_BUS_ADDRESS`,
 * is granted only beside the session bus's socket (`SESSION_BUS_VAR` in
 * scripts/permissions.ts) and read only when granted (store/keyring.ts).
 *
 * @example
 * ```ts
 * import { ENV_VARS } from "./env_vars.ts";
 * console.log(`--allow-env=${ENV_VARS.join(",")}`);
 * ```
 */
export const ENV_VARS: readonly string[] = [
  "HOME", // default config directory (~/.config/loopauth)
  "USERPROFILE", // home directory on Windows
  "APPDATA", // config directory on Windows
  "XDG_CONFIG_HOME", // config directory
  "XDG_RUNTIME_DIR", // where the agent's socket goes ($XDG_RUNTIME_DIR/loopauth/agent.sock)
  "BROWSER", // the user's browser choice
  "DISPLAY", // whether xdg-open can show a browser (X11)
  "WAYLAND_DISPLAY", // the same for Wayland
  "WSL_DISTRO_NAME", // WSL: open the Windows browser with wslview
  "WSL_INTEROP", // the same
  "SSH_CONNECTION", // a remote session: race the device flow with the browser flow
  "SSH_CLIENT", // the same (older sshd)
  "SSH_TTY", // the same
  "TEMP", // Windows temporary directory
  "LOOPAUTH_CLIENT_ID", // stands in for --client-id
  "LOOPAUTH_CLIENT_SECRET", // stands in for --client-secret
  "LOOPAUTH_DEBUG", // stack traces for unexpected failures
  "LOOPAUTH_STORAGE", // stands in for --storage
  "LOOPAUTH_KEYRING_TIMEOUT", // how long a keyring call may take
  "LOOPAUTH_AGENT", // the agent's socket (loopauth agent start prints it)
  "LOOPAUTH_PASSPHRASE_FILE", // a file holding the passphrase of the encrypted store
  "LOOPAUTH_TOKEN", // a token from the environment wins for token and api
  "GH_TOKEN", // the same for github.com, like gh
  "GITHUB_TOKEN", // the same
  "GH_ENTERPRISE_TOKEN", // the same for GitHub Enterprise Server hosts, like gh
  "GITHUB_ENTERPRISE_TOKEN", // the same
  "CODESPACES", // in a Codespace GITHUB_TOKEN serves those hosts too (gh's rule)
  "LOOPAUTH_HOST", // the default host instead of github.com
  "GH_HOST", // the same, as gh reads it
  "LOOPAUTH_USER", // the account of one process instead of the host's active one
  "KUBERNETES_EXEC_INFO", // token --exec-credential: the ExecCredential version kubectl asks for
  "PATH", // setup-git: the installed loopauth, for git's helper
  // Deno itself reads these without a permission; loopauth reads them for doctor and hints.
  "HTTPS_PROXY", // the proxy of https requests
  "https_proxy",
  "HTTP_PROXY", // the proxy of http requests
  "http_proxy",
  "ALL_PROXY", // the proxy of both
  "all_proxy",
  "NO_PROXY", // hosts reached without the proxy
  "no_proxy",
  "DENO_CERT", // an extra CA certificate (PEM file), e.g. a corporate proxy's
  "DENO_TLS_CA_STORE", // mozilla (default) and/or system: which CA store to trust
  "TMPDIR", // the agent's short directory when its usual socket path is too long
  // Passed on (alone, without any token) to the browser opener and the agent (platform/child_env.ts).
  "XAUTHORITY", // the browser: the X display's authorization
  "XDG_DATA_DIRS", // the browser: xdg-open finds snap and Flatpak browsers' .desktop files
  "XDG_CURRENT_DESKTOP", // the browser: xdg-open picks the desktop's opener
  "XDG_SESSION_TYPE", // the browser: X11 or Wayland
  "LANG", // the browser: its language
  "SystemRoot", // the browser on Windows: cmd and start need it
  "DENO_DIR", // the agent: its Deno finds the module cache
  "XDG_CACHE_HOME", // the same, where DENO_DIR is unset
  "LOOPAUTH_REINSTALL", // set by the installed command (install.sh): its install, for a denied host's hint
];

/**
 * Reads the variables Deno may read, without a permission prompt for the
 * others (they count as unset).
 *
 * @example
 * ```ts
 * import { readEnv } from "./env_vars.ts";
 * const { DISPLAY } = readEnv(["DISPLAY"]);
 * ```
 */
export function readEnv(names: readonly string[]): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const variable of names) {
    try {
      if (Deno.permissions.querySync({ name: "env", variable }).state === "granted") {
        env[variable] = Deno.env.get(variable);
      }
    } catch {
      // Counts as unset.
    }
  }
  return env;
}

/**
 * One variable; `undefined` when it is unset or Deno may not read it.
 *
 * @example
 * ```ts
 * import { readEnvVar } from "./env_vars.ts";
 * const token = readEnvVar("LOOPAUTH_TOKEN");
 * ```
 */
export function readEnvVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env for it: treat as unset
  }
}
