/** The environment variables loopauth reads. @module */

/**
 * The environment variables loopauth reads, and why: the one list behind
 * every documented `--allow-env` flag.
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
  "LOOPAUTH_TOKEN", // a token from the environment wins for token and api
  "GH_TOKEN", // the same for github.com, like gh
  "GITHUB_TOKEN", // the same
];
