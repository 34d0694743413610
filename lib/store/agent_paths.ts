/**
 * Where the loopauth agent listens: `$LOOPAUTH_AGENT`, else
 * `$XDG_RUNTIME_DIR/loopauth/agent.sock`, else `agent/agent.sock` in the
 * config directory (both directories 0700, the user's own). The agent's key
 * is the file `SOCKET.key` beside the socket.
 * @module
 */
import { readEnvVar } from "../core/env_vars.ts";
import { configDir } from "./paths.ts";
import { joinPath, parentDir } from "./paths.ts";

/** The socket's file name in its directory. */
export const AGENT_SOCKET_NAME = "agent.sock";

/** Options of {@linkcode agentSocketPath} and {@linkcode defaultAgentSocket}. */
export interface AgentPathOptions {
  /** Reads an environment variable (default: the process's, unset when not permitted). */
  env?: (name: string) => string | undefined;
  /** The config directory (default: the user's). */
  configDir?: string;
}

/**
 * The socket an agent started now would listen on:
 * `$XDG_RUNTIME_DIR/loopauth/agent.sock`, else `CONFIG/agent/agent.sock`.
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
  const runtime = env("XDG_RUNTIME_DIR");
  if (runtime && runtime.startsWith("/")) {
    return joinPath(joinPath(runtime, "loopauth"), AGENT_SOCKET_NAME);
  }
  const dir = options.configDir ?? configDir({ env });
  return joinPath(joinPath(dir, "agent"), AGENT_SOCKET_NAME);
}

/**
 * The socket clients use: `$LOOPAUTH_AGENT`, else {@linkcode defaultAgentSocket}.
 *
 * @example
 * ```ts
 * import { agentSocketPath } from "./agent_paths.ts";
 * console.log(agentSocketPath()); // e.g. /run/user/1000/loopauth/agent.sock
 * ```
 */
export function agentSocketPath(options: AgentPathOptions = {}): string {
  const env = options.env ?? readEnvVar;
  return env("LOOPAUTH_AGENT") || defaultAgentSocket(options);
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
