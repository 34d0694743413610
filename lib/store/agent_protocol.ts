/**
 * What the loopauth agent and its clients say to each other: one JSON
 * request per connection, one line, answered by one JSON line. Every
 * request carries the agent's key (read from `agent.key` beside the
 * socket), compared in constant time.
 * @module
 */

/** The protocol version both sides speak. */
export const AGENT_PROTOCOL = 1;

/** The longest request or answer line, in bytes (secrets are small). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** What a client asks. */
export type AgentRequest =
  | { op: "status" }
  | { op: "stop" }
  | { op: "get"; item: string }
  | { op: "set"; item: string; value: unknown }
  | { op: "delete"; item: string };

/** What the agent answers. */
export type AgentAnswer =
  | { ok: true; value?: unknown; existed?: boolean; status?: AgentStatus }
  | { ok: false; error: string };

/** What `status` tells about a running agent. */
export interface AgentStatus {
  /** The agent's process id. */
  pid: number;
  /** ISO time the agent ends by itself. */
  expiresAt: string;
  /** How many items (accounts, unlocked keys) it holds. */
  items: number;
}

/**
 * The name of an item the agent holds: its kind and parts, unambiguous for
 * any host or login.
 *
 * @example
 * ```ts
 * import { itemName } from "./agent_protocol.ts";
 * itemName("secrets", "github.com", "octocat"); // '["secrets","github.com","octocat"]'
 * ```
 */
export function itemName(kind: "secrets" | "key", ...parts: string[]): string {
  return JSON.stringify([kind, ...parts]);
}

/**
 * One message as the line that goes over the socket.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./agent_protocol.ts";
 * encodeMessage({ op: "status" });
 * ```
 */
export function encodeMessage(message: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(message)}\n`);
}

/**
 * Reads one line (up to {@linkcode MAX_MESSAGE_BYTES}) from a connection and
 * parses it; `undefined` when the peer closed first, sent too much or sent
 * no JSON object.
 *
 * @example
 * ```ts
 * import { readMessage } from "./agent_protocol.ts";
 * const conn = await Deno.connect({ transport: "unix", path: "/run/user/1000/loopauth/agent.sock" });
 * const message = await readMessage(conn);
 * ```
 */
export async function readMessage(
  conn: Deno.Conn,
): Promise<Record<string, unknown> | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) return undefined;
    const end = buffer.subarray(0, n).indexOf(10);
    chunks.push(buffer.slice(0, end === -1 ? n : end));
    size += end === -1 ? n : end;
    if (size > MAX_MESSAGE_BYTES) return undefined;
    if (end !== -1) break;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  try {
    const data = JSON.parse(new TextDecoder().decode(bytes));
    return typeof data === "object" && data !== null && !Array.isArray(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether two strings are equal, in a time that does not depend on where
 * they differ (for the agent's key).
 *
 * @example
 * ```ts
 * import { sameSecret } from "./agent_protocol.ts";
 * sameSecret("abc", "abc"); // true
 * ```
 */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}
