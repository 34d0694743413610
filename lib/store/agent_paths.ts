/**
 * Where the loopauth agent listens: `$LOOPAUTH_AGENT`, else
 * `$XDG_RUNTIME_DIR/loopauth/agent.sock`, else `agent/agent.sock` in the
 * config directory (both directories 0700, the user's own); when that path
 * is too long for a Unix socket, `loopauth-UID/agent.sock` in `$TMPDIR` or
 * `/tmp`. The agent's key is the file `SOCKET.key` beside the socket.
 * @module
 */
import { type App, appEnvName, LOOPAUTH_APP } from "../core/app.ts";
import { readEnvVar } from "../core/env_vars.ts";
import { ownUid } from "../platform/uid.ts";
import { configDir, joinPath, parentDir } from "./paths.ts";

/**
 * The longest Unix socket path every OS takes, in bytes: macOS's `sun_path`
 * holds 104 with the NUL, Linux's 108.
 */
export const MAX_SOCKET_PATH = 103;

/** Whether `path` fits a Unix socket address ({@linkcode MAX_SOCKET_PATH}). */
export function fitsSocket(path: string): boolean {
  return new TextEncoder().encode(path).length <= MAX_SOCKET_PATH;
}

/**
 * The agent's short directory for a user whose default socket path is too
 * long (a long `$HOME` or `$XDG_RUNTIME_DIR`): `loopauth-UID` in `$TMPDIR`,
 * else in `/tmp` (tmux keeps `tmux-UID` there the same way, in
 * `$TMUX_TMPDIR` or `/tmp`). The agent and its clients must see the same
 * `TMPDIR` (or `LOOPAUTH_AGENT`). The agent creates it 0700
 * and refuses it when it is not a directory of the user's own that only
 * they can enter.
 *
 * @example
 * ```ts
 * import { shortAgentDir } from "./agent_paths.ts";
 * shortAgentDir(1000, { env: () => undefined }); // "/tmp/loopauth-1000"
 * ```
 */
export function shortAgentDir(
  uid: number,
  options: Pick<AgentPathOptions, "env" | "app"> = {},
): string {
  const tmp = (options.env ?? readEnvVar)("TMPDIR")?.replace(/\/+$/, "");
  const name = (options.app ?? LOOPAUTH_APP).name;
  return joinPath(tmp && tmp.startsWith("/") ? tmp : "/tmp", `${name}-${uid}`);
}

/** The socket's file name in its directory. */
export const AGENT_SOCKET_NAME = "agent.sock";

/** Options of {@linkcode agentSocketPath} and {@linkcode defaultAgentSocket}. */
export interface AgentPathOptions {
  /** Reads an environment variable (default: the process's, unset when not permitted). */
  env?: (name: string) => string | undefined;
  /** The config directory (default: the user's). */
  configDir?: string;
  /** The user id for the short fallback (default: this process's, when Deno may tell). */
  uid?: number;
  /**
   * The app whose agent it is (default loopauth): its name replaces
   * `loopauth` in every path, and it reads `PREFIX_AGENT`.
   */
  app?: App;
}

/**
 * The socket an agent started now would listen on:
 * `$XDG_RUNTIME_DIR/loopauth/agent.sock`, else `CONFIG/agent/agent.sock`;
 * when that is longer than a Unix socket path may be, `agent.sock` in
 * {@linkcode shortAgentDir} (on Windows, or without the uid, the long path,
 * which the agent then refuses in one line).
 *
 * @example
 * ```ts
 * import { defaultAgentSocket } from "./agent_paths.ts";
 * defaultAgentSocket({ env: (name) => name === "XDG_RUNTIME_DIR" ? "/run/user/1000" : undefined });
 * // "/run/user/1000/loopauth/agent.sock"
 * ```
 */
export function defaultAgentSocket(options: AgentPathOptions = {}): string {
  const env = options.env ?? readEnvVar;
  const app = options.app ?? LOOPAUTH_APP;
  const runtime = env("XDG_RUNTIME_DIR");
  const preferred = runtime && runtime.startsWith("/")
    ? joinPath(joinPath(runtime, app.name), AGENT_SOCKET_NAME)
    : joinPath(
      joinPath(options.configDir ?? configDir({ env, app }), "agent"),
      AGENT_SOCKET_NAME,
    );
  if (fitsSocket(preferred) || Deno.build.os === "windows") return preferred;
  const uid = options.uid ?? ownUid();
  return uid === undefined
    ? preferred
    : joinPath(shortAgentDir(uid, { env, app }), AGENT_SOCKET_NAME);
}

/**
 * The socket clients use: `$LOOPAUTH_AGENT`, else {@linkcode defaultAgentSocket}.
 *
 * @example
 * ```ts ignore
 * import { agentSocketPath } from "./agent_paths.ts";
 * console.log(agentSocketPath()); // e.g. /run/user/1000/loopauth/agent.sock
 * ```
 */
export function agentSocketPath(options: AgentPathOptions = {}): string {
  const env = options.env ?? readEnvVar;
  return env(appEnvName(options.app ?? LOOPAUTH_APP, "LOOPAUTH_AGENT")) ||
    defaultAgentSocket(options);
}

/**
 * The file beside a socket that holds its agent's key (mode 0600).
 *
 * @example
 * ```ts
 * import { agentKeyPath } from "./agent_paths.ts";
 * agentKeyPath("/run/user/1000/loopauth/agent.sock"); // "/run/user/1000/loopauth/agent.sock.key"
 * ```
 */
export function agentKeyPath(socket: string): string {
  return `${socket}.key`;
}

/**
 * The directory of a socket (0700: it is what keeps other users out).
 *
 * @example
 * ```ts
 * import { agentDir } from "./agent_paths.ts";
 * agentDir("/run/user/1000/loopauth/agent.sock"); // "/run/user/1000/loopauth"
 * ```
 */
export function agentDir(socket: string): string {
  return parentDir(socket);
}
