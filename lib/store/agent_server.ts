/**
 * The loopauth agent itself: holds secrets (accounts' tokens, unlocked keys
 * of encrypted stores) in this process's memory only and answers on a Unix
 * socket until its time to live ends, it is told to stop, or it gets
 * SIGTERM, SIGINT or SIGHUP.
 *
 * Who may ask: Deno cannot read a socket peer's credentials (SO_PEERCRED
 * needs FFI), so the agent relies on what ssh-agent relies on, the modes:
 * the socket's directory is the user's own with mode 0700 and the socket
 * 0600, so no other user (root aside) can connect. Also every request must
 * carry the agent's key, 32 random bytes in `SOCKET.key` (0600) beside the
 * socket: a socket exposed more widely by a relay still answers only those
 * who can read the user's files. Nothing is written to disk but the socket
 * and the key; the memory is not locked (that too needs FFI), so where swap
 * is on and unencrypted, the OS may page it out.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { after, within } from "../core/timers.ts";
import { agentDir, agentKeyPath, fitsSocket, MAX_SOCKET_PATH } from "./agent_paths.ts";
import { ownUid } from "../platform/uid.ts";
import { probeAgent } from "./agent_client.ts";
import {
  AGENT_PROTOCOL,
  type AgentAnswer,
  encodeMessage,
  readMessage,
  sameSecret,
} from "./agent_protocol.ts";

/** How long a client may take to send its request. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@linkcode runAgent}. */
export interface RunAgentOptions {
  /** Where to listen. */
  socket: string;
  /** Milliseconds until the agent ends by itself. */
  ttl: number;
  /** Called once the agent listens. */
  onReady?: (info: { socket: string; pid: number; expiresAt: string }) => void;
  /** Aborting stops the agent. */
  signal?: AbortSignal;
}

/** Why {@linkcode runAgent} ended. */
export type AgentEnd = "ttl" | "stopped" | "signal";

/**
 * Runs the agent until it ends; resolves with why. An agent already
 * answering at the socket, or a socket directory that is not the user's
 * own, is a `storage` error before anything is written.
 *
 * @example
 * ```ts
 * import { runAgent } from "./agent_server.ts";
 * const end = await runAgent({ socket: "/run/user/1000/loopauth/agent.sock", ttl: 3_600_000 });
 * console.error(`agent ended: ${end}`);
 * ```
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentEnd> {
  const { socket, ttl } = options;
  if (!fitsSocket(socket)) {
    throw new LoopauthError(
      "usage",
      `The socket path ${socket} is too long for the OS (at most ${MAX_SOCKET_PATH} bytes): use a shorter --socket`,
    );
  }
  await prepareDir(agentDir(socket));
  const running = await probeAgent({ socket, timeout: 2000 });
  if (running.ok) {
    throw new LoopauthError(
      "storage",
      `An agent is already running at ${socket} (pid ${running.status.pid}): stop it with loopauth agent stop first`,
    );
  }
  await removeStaleSocket(socket);
  const key = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const keyPath = agentKeyPath(socket);
  await writeKey(keyPath, key);
  let listener: Deno.UnixListener;
  try {
    listener = Deno.listen({ transport: "unix", path: socket });
    await Deno.chmod(socket, 0o600);
  } catch (error) {
    await Deno.remove(keyPath).catch(() => {});
    throw error instanceof Deno.errors.NotCapable ? error : new LoopauthError(
      "storage",
      `Cannot listen on ${socket}: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  const expiresAt = new Date(Date.now() + ttl).toISOString();
  const items = new Map<string, unknown>();
  const { promise: ended, resolve: end } = Promise.withResolvers<AgentEnd>();
  const cancelTtl = after(ttl, () => end("ttl"));
  const onSignal = () => end("signal");
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? [] : ["SIGTERM", "SIGHUP"];
  for (const name of signals) Deno.addSignalListener(name, onSignal);
  options.signal?.addEventListener("abort", onSignal, { once: true });
  if (options.signal?.aborted) onSignal();

  const answer = (request: Record<string, unknown>): AgentAnswer => {
    if (request.v !== AGENT_PROTOCOL) return { ok: false, error: "unsupported protocol version" };
    if (typeof request.key !== "string" || !sameSecret(request.key, key)) {
      return { ok: false, error: "forbidden" };
    }
    const item = request.item;
    switch (request.op) {
      case "status":
        return { ok: true, status: { pid: Deno.pid, expiresAt, items: items.size } };
      case "stop":
        queueMicrotask(() => end("stopped"));
        return { ok: true };
      case "get":
        if (typeof item !== "string") break;
        return { ok: true, value: items.has(item) ? items.get(item) : null };
      case "set":
        if (typeof item !== "string" || !("value" in request)) break;
        items.set(item, request.value);
        return { ok: true };
      case "delete":
        if (typeof item !== "string") break;
        return { ok: true, existed: items.delete(item) };
    }
    return { ok: false, error: "malformed request" };
  };
  const serve = async (conn: Deno.UnixConn) => {
    try {
      const request = await within(readMessage(conn), REQUEST_TIMEOUT_MS);
      if (request === undefined) return;
      await conn.write(encodeMessage(answer(request)));
    } catch {
      // The client went away: nothing to answer.
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) serve(conn);
    } catch {
      // The listener was closed.
    }
  })();
  try {
    options.onReady?.({ socket, pid: Deno.pid, expiresAt });
  } catch {
    // Whoever started it stopped reading its output: the agent goes on.
  }
  const why = await ended;
  cancelTtl();
  for (const name of signals) Deno.removeSignalListener(name, onSignal);
  options.signal?.removeEventListener("abort", onSignal);
  items.clear();
  try {
    listener.close();
  } catch { /* closed */ }
  await accepting;
  await Deno.remove(socket).catch(() => {});
  // Only this agent's key: a new agent may have taken the path meanwhile.
  if ((await Deno.readTextFile(keyPath).catch(() => "")).trim() === key) {
    await Deno.remove(keyPath).catch(() => {});
  }
  return why;
}

/**
 * Creates the socket's directory 0700 (and any missing parent), or checks an
 * existing one: it must be a directory of the user's own that no one else
 * may enter. An existing directory's mode is never changed: loopauth did not
 * create it (`--socket /tmp/x.sock` must not turn `/tmp` into 0700).
 */
async function prepareDir(dir: string): Promise<void> {
  try {
    // Made 0700 when missing (parents too); checked either way: between a mkdir and the check
    // someone else may have made it, and a fresh 0700 directory passes.
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await Deno.lstat(dir);
    if (!info.isDirectory) {
      throw new LoopauthError(
        "storage",
        `Refusing to use ${dir} for the agent: it is not a directory`,
      );
    }
    if (Deno.build.os === "windows") return;
    const uid = ownUid();
    if (uid !== undefined && info.uid !== uid) {
      throw new LoopauthError(
        "storage",
        `Refusing to use ${dir} for the agent: it belongs to another user (uid ${info.uid}): use a --socket in a directory of your own`,
      );
    }
    const mode = (info.mode ?? 0) & 0o777;
    if (mode & 0o077) {
      throw new LoopauthError(
        "storage",
        `Refusing to use ${dir} for the agent: other users may enter it (mode 0${
          mode.toString(8)
        }): run chmod 700 ${dir}, or use a --socket in a directory only you can enter`,
      );
    }
  } catch (error) {
    if (error instanceof LoopauthError || error instanceof Deno.errors.NotCapable) throw error;
    throw new LoopauthError("storage", `Cannot create ${dir} for the agent: ${error}`, {
      cause: error,
    });
  }
}

/** Removes a socket no agent answers on (left by a killed agent); refuses anything else. */
async function removeStaleSocket(socket: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(socket);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isSocket) {
    throw new LoopauthError(
      "storage",
      `Refusing to replace ${socket}: it is not a socket (remove it, or use another --socket)`,
    );
  }
  await Deno.remove(socket);
}

/** Writes the key file atomically with mode 0600. */
async function writeKey(path: string, key: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, `${key}\n`, { createNew: true, mode: 0o600 });
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new LoopauthError("storage", `Cannot write ${path}: ${error}`, { cause: error });
  }
}
