/**
 * Asking the loopauth agent: one request per connection over its Unix
 * socket, every step bounded (an agent that is gone is an error at once, one
 * that is stuck one after {@linkcode AGENT_TIMEOUT_MS}). Before connecting,
 * the socket's directory and key file must be the user's own and closed to
 * others: a socket someone else planted is never asked, nor told a secret.
 * @module
 */
import { formatDuration } from "../core/duration.ts";
import { LoopauthError } from "../core/errors.ts";
import { ownUid } from "../platform/uid.ts";
import { within } from "../core/timers.ts";
import { asReason, terminalSafe } from "../core/text.ts";
import { agentDir, agentKeyPath, agentSocketPath } from "./agent_paths.ts";
import {
  accountOfItem,
  AGENT_PROTOCOL,
  type AgentRequest,
  type AgentStatus,
  encodeMessage,
  type ForwardedKey,
  readMessage,
} from "./agent_protocol.ts";

/** The longest an agent may take to answer one request. */
export const AGENT_TIMEOUT_MS = 5_000;

/** Options of {@linkcode agentRequest} and {@linkcode probeAgent}. */
export interface AgentClientOptions {
  /** The agent's socket (default: {@linkcode agentSocketPath}). */
  socket?: string;
  /** Milliseconds the whole request may take (default {@linkcode AGENT_TIMEOUT_MS}). */
  timeout?: number;
}

/** What a request answered. */
export interface AgentReply {
  /** The item's value (`get`), `null` when the agent holds none. */
  value?: unknown;
  /** Whether the item was there (`delete`). */
  existed?: boolean;
  /** The agent's state (`status`). */
  status?: AgentStatus;
  /** The key `forward` minted. */
  forward?: ForwardedKey;
}

/**
 * Sends one request to the agent and returns its answer. An agent that is
 * not running (no key file, no listener) is a `storage` error saying so with
 * `cause` {@linkcode AGENT_NOT_RUNNING}; one that does not answer in time or
 * refuses the key is a `storage` error too.
 *
 * @example
 * ```ts ignore
 * import { agentRequest } from "./agent_client.ts";
 * const { status } = await agentRequest({ op: "status" });
 * console.log(status?.pid);
 * ```
 */
export async function agentRequest(
  request: AgentRequest,
  options: AgentClientOptions = {},
): Promise<AgentReply> {
  const socket = options.socket ?? agentSocketPath();
  const timeout = options.timeout ?? AGENT_TIMEOUT_MS;
  const key = await readAgentKey(socket);
  let conn: Deno.UnixConn | undefined;
  const exchange = (async () => {
    try {
      conn = await Deno.connect({ transport: "unix", path: socket });
    } catch (error) {
      if (
        error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused
      ) {
        throw notRunning(socket, error);
      }
      throw connectError(socket, error);
    }
    await conn.write(encodeMessage({ v: AGENT_PROTOCOL, key, ...request }));
    return await readMessage(conn);
  })();
  let answer: Record<string, unknown> | undefined;
  try {
    const result = await within(exchange.then((a) => ({ a })), timeout);
    if (result === undefined) {
      exchange.catch(() => {}); // closing the connection below ends it
      throw new LoopauthError(
        "storage",
        `The agent at ${socket} did not answer within ${
          formatDuration(timeout)
        } (stopped or stuck?): end it, then run loopauth agent start`,
      );
    }
    answer = result.a;
  } catch (error) {
    if (error instanceof LoopauthError) throw error;
    // The agent went away in the middle (it was stopped or killed).
    throw notRunning(socket, error);
  } finally {
    try {
      (conn as Deno.UnixConn | undefined)?.close();
    } catch { /* already closed */ }
  }
  if (answer === undefined) throw notRunning(socket, new Error("closed without an answer"));
  if (answer.ok !== true) {
    const reason = typeof answer.error === "string" ? answer.error : "no reason given";
    throw new LoopauthError("storage", refusal(socket, reason, request));
  }
  return {
    ...("value" in answer ? { value: answer.value } : {}),
    ...(typeof answer.existed === "boolean" ? { existed: answer.existed } : {}),
    ...(isStatus(answer.status) ? { status: answer.status } : {}),
    ...(isForward(answer.forward) ? { forward: answer.forward } : {}),
  };
}

/** The one line for a request the agent refused. */
function refusal(socket: string, reason: string, request: AgentRequest): string {
  const keyPath = agentKeyPath(socket);
  const account = "item" in request ? accountOfItem(request.item) : undefined;
  const host = account ? terminalSafe(account.host, { max: 200 }) : "HOST";
  const there = "on the machine the agent runs on";
  switch (reason) {
    case "forbidden":
      return `The agent at ${socket} refused the key in ${keyPath} (a different agent's?): start a new one with loopauth agent start`;
    case "read-only":
      return `The key in ${keyPath} is a forwarded, read-only key: log in, refresh and log out ${there}`;
    case "not forwarded":
      return `The forwarded key in ${keyPath} does not cover ${
        account ? `the token of ${host}` : "this"
      }: run loopauth agent forward --host ${host} ${there} and copy its files here`;
    case "refresh needed":
      return `The token of ${
        terminalSafe(account?.login ?? "", { max: 100 })
      } on ${host} in the agent at ${socket} expires within a minute and a forwarded key cannot refresh it: run loopauth token ${
        host.startsWith("https://") ? "--issuer" : "--hostname"
      } ${host} >/dev/null ${there}, then try again`;
    case "forward expired":
      return `The forwarded key in ${keyPath} has expired: run loopauth agent forward again ${there} and copy its files here`;
  }
  return `The agent at ${socket} refused the request (${terminalSafe(reason, { max: 200 })})`;
}

/**
 * Whether an agent answers at the socket: its status, or why not (never
 * throws; for the automatic choice of storage).
 *
 * @example
 * ```ts
 * import { probeAgent } from "./agent_client.ts";
 * const probe = await probeAgent();
 * if (probe.ok) console.log(`agent pid ${probe.status.pid}`);
 * ```
 */
export async function probeAgent(
  options: AgentClientOptions = {},
): Promise<{ ok: true; socket: string; status: AgentStatus } | { ok: false; reason: string }> {
  try {
    const socket = options.socket ?? agentSocketPath();
    const { status } = await agentRequest({ op: "status" }, { ...options, socket });
    if (!status) return { ok: false, reason: `the agent at ${socket} sent no status` };
    return { ok: true, socket, status };
  } catch (error) {
    return { ok: false, reason: asReason(error) };
  }
}

/** Marks the `cause` of the error an agent that is not running gives. */
export const AGENT_NOT_RUNNING: Error = new Error("the agent is not running");

/**
 * Whether an error says the agent is not running (rather than stuck or refusing).
 *
 * @example
 * ```ts
 * import { agentRequest, isAgentNotRunning } from "./agent_client.ts";
 * const running = await agentRequest({ op: "status" }).then(() => true, (e) => !isAgentNotRunning(e));
 * ```
 */
export function isAgentNotRunning(error: unknown): boolean {
  return error instanceof LoopauthError && error.cause === AGENT_NOT_RUNNING;
}

function notRunning(socket: string, _error: unknown): LoopauthError {
  return new LoopauthError(
    "storage",
    `The agent at ${socket} is not running: start one with loopauth agent start, then log in again`,
    { cause: AGENT_NOT_RUNNING },
  );
}

function connectError(socket: string, error: unknown): unknown {
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return error; // the CLI names the flag (or the mode) that is missing
  }
  const reason = error instanceof Error ? error.message.split(" (os error")[0] : String(error);
  return new LoopauthError("storage", `Cannot reach the agent at ${socket}: ${reason}`, {
    cause: error,
  });
}

/**
 * Reads the key beside the socket, after checking that it and the socket's
 * directory are the user's own and closed to other users.
 */
async function readAgentKey(socket: string): Promise<string> {
  const path = agentKeyPath(socket);
  // Asked first, so that Deno never prompts (nor fails half-way) for the agent's paths.
  const denied = [
    { name: "net", host: `unix:${socket}` },
    { name: "read", path: socket },
    { name: "write", path: socket },
    { name: "read", path },
  ].some((descriptor) =>
    Deno.permissions.querySync(descriptor as Deno.PermissionDescriptor).state !== "granted"
  );
  if (denied) {
    throw new LoopauthError(
      "permission",
      `Deno may not reach the agent at ${socket}: run with --allow-net=unix:${socket} --allow-read=${
        agentDir(socket)
      } --allow-write=${agentDir(socket)}`,
    );
  }
  const uid = ownUid();
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      throw notRunning(socket, error);
    }
    throw error;
  }
  const dir = await Deno.lstat(agentDir(socket));
  if (Deno.build.os !== "windows") {
    const foreign = (i: Deno.FileInfo) => uid !== undefined && i.uid !== null && i.uid !== uid;
    if (!info.isFile || foreign(info) || ((info.mode ?? 0) & 0o077) !== 0) {
      throw unsafe(path, "a file of yours with mode 0600");
    }
    if (!dir.isDirectory || foreign(dir) || ((dir.mode ?? 0) & 0o022) !== 0) {
      throw unsafe(agentDir(socket), "a directory of yours that only you can write to");
    }
  }
  const key = (await Deno.readTextFile(path)).trim();
  if (!/^[0-9a-f]{64}$/.test(key)) throw unsafe(path, "the key file an agent writes");
  return key;
}

function unsafe(path: string, want: string): LoopauthError {
  return new LoopauthError(
    "storage",
    `Refusing to use ${path}: it is not ${want} (start your own agent with loopauth agent start)`,
  );
}

function isForward(value: unknown): value is ForwardedKey {
  const f = value as ForwardedKey;
  return typeof value === "object" && value !== null && typeof f.id === "number" &&
    typeof f.key === "string" && /^[0-9a-f]{64}$/.test(f.key) && Array.isArray(f.hosts) &&
    typeof f.expiresAt === "string";
}

function isStatus(value: unknown): value is AgentStatus {
  const s = value as AgentStatus;
  return typeof value === "object" && value !== null && typeof s.pid === "number" &&
    typeof s.expiresAt === "string" && typeof s.items === "number";
}
