/**
 * A restricted view of the agent for a remote host: `forward` mints a key
 * that may only read the access tokens of the hosts named (never a refresh
 * token or client secret, never a write), and this writes what the remote
 * needs into one directory: that key (`agent.sock.key`) and a `config.json`
 * holding the named hosts' accounts alone (metadata, no secret).
 * @module
 */
import { statOrUndefined } from "./dir_safety.ts";
import { LoopauthError } from "../core/errors.ts";
import { agentRequest } from "./agent_client.ts";
import type { ForwardedKey } from "./agent_protocol.ts";
import { AGENT_SOCKET_NAME, agentDir, agentKeyPath } from "./agent_paths.ts";
import { type Config, configPath as configFile, readConfig } from "./config.ts";
import { writeFileAtomic } from "./file.ts";
import { joinPath } from "./paths.ts";

/** Options of {@linkcode forwardAgent}. */
export interface ForwardAgentOptions {
  /** The agent's socket. */
  socket: string;
  /** The local config directory (whose accounts are forwarded). */
  configDir: string;
  /** Milliseconds the key works (default: as long as the agent lives). */
  ttl?: number;
  /** Where the files go (default `forward` beside the socket). */
  out?: string;
}

/** What {@linkcode forwardAgent} made. */
export interface ForwardBundle {
  /** The key's number, host keys and expiry (not the key). */
  forward: Omit<ForwardedKey, "key">;
  /** The directory holding both files. */
  dir: string;
  /** The key file (0600), for `REMOTE_SOCKET.key` on the remote. */
  keyPath: string;
  /** The config file (0600), for the remote's config directory. */
  configPath: string;
}

/**
 * Asks the agent at `options.socket` for a read-only key limited to the
 * access tokens of `hosts` (host keys as stored: `github.com`, a GHES host,
 * an issuer URL) and writes it, with a config file naming only those hosts'
 * agent accounts, into `options.out`. A host with no account in the agent is
 * a `not_logged_in` error before the agent is asked.
 *
 * @example
 * ```ts ignore
 * import { forwardAgent } from "./agent_forward.ts";
 * const bundle = await forwardAgent(["github.com"], {
 *   socket: "/run/user/1000/loopauth/agent.sock",
 *   configDir: "/home/me/.config/loopauth",
 * });
 * console.log(bundle.keyPath);
 * ```
 */
export async function forwardAgent(
  hosts: string[],
  options: ForwardAgentOptions,
): Promise<ForwardBundle> {
  const config = readConfig(options.configDir);
  const remote: Config = { version: 1, hosts: {} };
  for (const host of hosts) {
    const entry = Object.hasOwn(config.hosts, host) ? config.hosts[host] : undefined;
    const accounts = Object.entries(entry?.accounts ?? {}).filter(([, a]) => a.storage === "agent");
    if (!entry || accounts.length === 0) {
      throw new LoopauthError(
        "not_logged_in",
        `No account of ${host} is stored in the agent: log in with --storage agent first (loopauth status lists the hosts)`,
      );
    }
    const active = entry.active && accounts.some(([login]) => login === entry.active)
      ? { active: entry.active }
      : {};
    remote.hosts[host] = { ...active, accounts: Object.fromEntries(accounts) };
  }
  const { forward } = await agentRequest(
    { op: "forward", hosts, ...(options.ttl === undefined ? {} : { ttl: options.ttl }) },
    { socket: options.socket },
  );
  if (!forward) {
    throw new LoopauthError("storage", `The agent at ${options.socket} minted no forwarded key`);
  }
  const dir = options.out ?? joinPath(agentDir(options.socket), "forward");
  checkOutDir(dir);
  const keyPath = agentKeyPath(joinPath(dir, AGENT_SOCKET_NAME));
  const configPath = configFile(dir);
  await writeFileAtomic(keyPath, `${forward.key}\n`);
  await writeFileAtomic(configPath, `${JSON.stringify(remote, null, 2)}\n`);
  const { key: _, ...shown } = forward;
  return { forward: shown, dir, keyPath, configPath };
}

/**
 * An existing `--out` must be a directory closed to others: writing creates
 * a missing one 0700 but would tighten an existing one (never `/tmp`).
 */
function checkOutDir(dir: string): void {
  const info = statOrUndefined(dir, { link: true });
  if (info === undefined) return;
  if (!info.isDirectory || (Deno.build.os !== "windows" && ((info.mode ?? 0) & 0o077) !== 0)) {
    throw new LoopauthError(
      "usage",
      `Refusing to write the forwarded key into ${dir}: it is not a directory only you can enter: give a new --out directory`,
    );
  }
}
