/**
 * Which login flow worked last time, per host, in `<configDir>/flows.json`
 * (mode 0600 in a 0700 directory, replaced atomically like the credentials
 * file). It holds no secret; losing it only costs the remembered choice.
 * @module
 */
import { isRecord } from "../core/json.ts";
import { readJsonFile, writeFileAtomic } from "./file.ts";
import type { Flow } from "../core/types.ts";
import { configDir, joinPath } from "./paths.ts";

/** Options of the flow memory's functions. */
export interface FlowMemoryOptions {
  /** Directory of the store (default: {@linkcode configDir}). */
  dir?: string;
}

const FILE_NAME = "flows.json";

/**
 * The flow that worked last time for `host`, or `undefined` (also when the
 * file is missing, unreadable or not valid).
 *
 * @example
 * ```ts
 * import { rememberedFlow } from "./flow_memory.ts";
 * const flow = await rememberedFlow("github.com", { dir: "/tmp/loopauth" });
 * ```
 */
export function rememberedFlow(
  host: string,
  options: FlowMemoryOptions = {},
): Promise<Flow | undefined> {
  return Promise.try(() => {
    const hosts = readHosts(joinPath(options.dir ?? configDir(), FILE_NAME));
    const flow = Object.hasOwn(hosts, host) ? hosts[host]?.flow : undefined;
    return flow === "web" || flow === "device" ? flow : undefined;
  });
}

/**
 * Remembers that `flow` worked for `host`.
 *
 * @example
 * ```ts ignore
 * import { rememberFlow } from "./flow_memory.ts";
 * await rememberFlow("github.com", "device", { dir: "/tmp/loopauth" });
 * ```
 */
export async function rememberFlow(
  host: string,
  flow: Flow,
  options: FlowMemoryOptions = {},
): Promise<void> {
  const dir = options.dir ?? configDir();
  const path = joinPath(dir, FILE_NAME);
  const hosts = readHosts(path);
  hosts[host] = { flow, at: new Date().toISOString() };
  await writeFileAtomic(path, `${JSON.stringify({ version: 1, hosts }, null, 2)}\n`);
}

/** The remembered flows; none when the file is missing or unreadable (it is only a hint). */
function readHosts(path: string): Record<string, { flow: string; at?: string }> {
  let data: Record<string, unknown> | undefined;
  try {
    data = readJsonFile(path, "loopauth flow memory");
  } catch {
    return {};
  }
  return isRecord(data?.hosts) ? data.hosts as Record<string, { flow: string; at?: string }> : {};
}
