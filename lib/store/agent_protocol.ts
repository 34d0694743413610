/**
 * What the loopauth agent and its clients say to each other: one JSON
 * request per connection, one line, answered by one JSON line. Every
 * request carries a key, compared in constant time: the agent's own key
 * (read from `SOCKET.key` beside the socket), which may do everything, or a
 * forwarded key the agent minted for `loopauth agent forward`, which may
 * only read the access tokens of the hosts it names, until it expires.
 * @module
 */
import { parseJsonObject } from "../core/json.ts";
import { within } from "../core/timers.ts";

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
  | { op: "delete"; item: string }
  | { op: "forward"; hosts: string[]; ttl?: number };

/** What the agent answers. */
export type AgentAnswer =
  | {
    ok: true;
    value?: unknown;
    existed?: boolean;
    status?: AgentStatus;
    forward?: ForwardedKey;
  }
  | { ok: false; error: ForwardRefusal | "forbidden" | "malformed request" | string };

/**
 * Why the agent refused a forwarded key's request: `read-only` (anything but
 * `get` and `status`), `not forwarded` (another host, or an item that is no
 * account's secrets), `refresh needed` (the access token expires within a
 * minute: only the agent's own machine can refresh it), `forward expired`.
 */
export type ForwardRefusal =
  | "read-only"
  | "not forwarded"
  | "refresh needed"
  | "forward expired";

/** A key `forward` minted: what a remote may do with it. */
export interface ForwardedKey {
  /** Its number in the agent's log and status. */
  id: number;
  /** The key itself (64 hex digits). */
  key: string;
  /** The host keys whose access tokens it may read. */
  hosts: string[];
  /** ISO time it stops working. */
  expiresAt: string;
}

/** One use of a forwarded key, as the agent logs it. */
export interface ForwardUse {
  /** ISO time of the request. */
  time: string;
  /** The forwarded key's number. */
  id: number;
  /** What it asked: `get`, `set`, `status`, … (`?` when no known op). */
  op: string;
  /** The host and login it asked about, when it named an account. */
  item?: string;
  /** `allowed`, or the {@linkcode ForwardRefusal}. */
  outcome: "allowed" | ForwardRefusal;
}

/** What `status` tells about a running agent. */
export interface AgentStatus {
  /** The agent's process id. */
  pid: number;
  /** ISO time the agent ends by itself. */
  expiresAt: string;
  /** How many items (accounts, unlocked keys) it holds (for a forwarded key: it may read). */
  items: number;
  /** For a forwarded key: the hosts it may read. */
  forwarded?: string[];
  /** For the agent's own key: the forwarded keys that still work (no key shown). */
  forwards?: Omit<ForwardedKey, "key">[];
  /** For the agent's own key: the latest uses of forwarded keys, oldest first. */
  uses?: ForwardUse[];
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
 * The host and login of an account's item, or `undefined` for any other name
 * (an unlocked key, garbage).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accountOfItem, itemName } from "./agent_protocol.ts";
 * assert.deepEqual(accountOfItem(itemName("secrets", "github.com", "octocat")), {
 *   host: "github.com",
 *   login: "octocat",
 * });
 * assert.equal(accountOfItem(itemName("key", "abc")), undefined);
 * ```
 */
export function accountOfItem(item: string): { host: string; login: string } | undefined {
  try {
    const parts = JSON.parse(item);
    if (
      Array.isArray(parts) && parts.length === 3 && parts[0] === "secrets" &&
      typeof parts[1] === "string" && typeof parts[2] === "string"
    ) return { host: parts[1], login: parts[2] };
  } catch { /* not a name itemName makes */ }
  return undefined;
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
 * ```ts ignore
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
  return parseJsonObject(new TextDecoder().decode(bytes));
}

/** How long a client may take to send its request line. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@linkcode serveMessages}. */
export interface ServeMessagesOptions<C extends Deno.Conn> {
  /** Whether a connection is heard at all (default: every one); one refused is closed unanswered. */
  admit?: (conn: C) => Promise<boolean>;
  /** Called once a reply went out. */
  onReplied?: (reply: Record<string, unknown>) => void;
}

/**
 * Serves one JSON request line per connection of `listener`, answered by
 * one JSON line, then closed (the agent's and the two-step login's waiter's
 * protocol); a client that sends nothing in time, too much or no JSON object
 * is closed unanswered. Resolves once the listener is closed.
 *
 * @example
 * ```ts
 * import { serveMessages } from "./agent_protocol.ts";
 * // Answers every request with its op until `listener` is closed.
 * export async function echo(listener: Deno.Listener): Promise<void> {
 *   await serveMessages(listener, (request) => ({ ok: true, echo: request.op }));
 * }
 * ```
 */
export async function serveMessages<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  answer: (
    request: Record<string, unknown>,
  ) => Promise<Record<string, unknown>> | Record<string, unknown>,
  options: ServeMessagesOptions<C> = {},
): Promise<void> {
  const serve = async (conn: C) => {
    try {
      if (options.admit && !await options.admit(conn)) return;
      const request = await within(readMessage(conn), REQUEST_TIMEOUT_MS);
      if (request === undefined) return;
      const reply = await answer(request);
      await conn.write(encodeMessage(reply));
      options.onReplied?.(reply);
    } catch {
      // The client went away: nothing to answer.
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  try {
    for await (const conn of listener) void serve(conn);
  } catch {
    // The listener was closed.
  }
}
