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
 * and the key.
 *
 * Forwarded keys: `forward` (asked with the agent's own key) mints another
 * random 256-bit key, kept in this process's memory only, for a remote that
 * reaches the socket through `ssh -R`. Such a key may only `get` the access
 * token (and its expiry time) of the accounts of the hosts it names, until
 * it expires: never a refresh token, a client secret, an unlocked key of
 * the encrypted store, nor any `set`, `delete`, `stop` or `forward`. Every
 * use is logged (the `log` option and the last uses in `status`). The
 * memory is not locked  (that too needs FFI), so where swap
 * is on and unencrypted, the OS may page it out.
 * @module
 */
import { statOrUndefined } from "./dir_safety.ts";
import { LoopauthError } from "../core/errors.ts";
import { after } from "../core/timers.ts";
import { agentDir, agentKeyPath, fitsSocket, MAX_SOCKET_PATH } from "./agent_paths.ts";
import { ownUid } from "../platform/uid.ts";
import { probeAgent } from "./agent_client.ts";
import {
  accountOfItem,
  AGENT_PROTOCOL,
  type AgentAnswer,
  type ForwardedKey,
  type ForwardRefusal,
  type ForwardUse,
  serveMessages,
} from "./agent_protocol.ts";
import { constantTimeEqual } from "../core/constant_time.ts";
import { needsRefresh } from "../core/expiry.ts";
import { terminalSafe } from "../core/text.ts";

/** How many uses of forwarded keys the agent keeps for `status`. */
const MAX_USES_KEPT = 100;

/** How many hosts one forwarded key may name. */
const MAX_FORWARD_HOSTS = 32;

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
  /** Told one line for each use of a forwarded key (and each key minted); errors are ignored. */
  log?: (line: string) => void;
}

/** Why {@linkcode runAgent} ended. */
export type AgentEnd = "ttl" | "stopped" | "signal";

/**
 * Runs the agent until it ends; resolves with why. An agent already
 * answering at the socket, or a socket directory that is not the user's
 * own, is a `storage` error before anything is written.
 *
 * @example
 * ```ts ignore
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
  const key = randomKey();
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

  const forwards: ForwardedKey[] = [];
  const uses: ForwardUse[] = [];
  const log = (line: string) => {
    try {
      options.log?.(line);
    } catch { /* whoever reads the log went away: the agent goes on */ }
  };

  const answer = (request: Record<string, unknown>): AgentAnswer => {
    if (request.v !== AGENT_PROTOCOL) return { ok: false, error: "unsupported protocol version" };
    if (typeof request.key !== "string") return { ok: false, error: "forbidden" };
    if (!constantTimeEqual(request.key, key)) {
      // Every forwarded key is compared, so the time does not tell which one matched.
      let forward: ForwardedKey | undefined;
      for (const f of forwards) if (constantTimeEqual(request.key, f.key)) forward = f;
      if (!forward) return { ok: false, error: "forbidden" };
      return answerForwarded(forward, request);
    }
    const item = request.item;
    switch (request.op) {
      case "status": {
        const working = forwards.filter((f) => Date.parse(f.expiresAt) > Date.now())
          .map(({ key: _, ...f }) => f);
        return {
          ok: true,
          status: {
            pid: Deno.pid,
            expiresAt,
            items: items.size,
            ...(working.length ? { forwards: working } : {}),
            ...(uses.length ? { uses: [...uses] } : {}),
          },
        };
      }
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
      case "forward": {
        const { hosts, ttl: life } = request;
        if (
          !Array.isArray(hosts) || hosts.length === 0 || hosts.length > MAX_FORWARD_HOSTS ||
          !hosts.every((h) => typeof h === "string" && h.length > 0 && h.length <= 512) ||
          (life !== undefined && (typeof life !== "number" || !(life > 0)))
        ) break;
        const until = Math.min(Date.parse(expiresAt), Date.now() + (life ?? Infinity));
        const forward: ForwardedKey = {
          id: forwards.length + 1,
          key: randomKey(),
          hosts: [...new Set(hosts as string[])],
          expiresAt: new Date(until).toISOString(),
        };
        forwards.push(forward);
        log(
          `${
            new Date().toISOString()
          } forwarded key ${forward.id} minted: read-only, the access tokens of ${
            forward.hosts.map((h) => terminalSafe(h)).join(", ")
          }, until ${forward.expiresAt}`,
        );
        return { ok: true, forward };
      }
    }
    return { ok: false, error: "malformed request" };
  };

  /** What a forwarded key may have: the access tokens of its hosts, read-only; each use logged. */
  const answerForwarded = (
    forward: ForwardedKey,
    request: Record<string, unknown>,
  ): AgentAnswer => {
    const op = typeof request.op === "string" ? request.op.slice(0, 20) : "?";
    const account = typeof request.item === "string" ? accountOfItem(request.item) : undefined;
    const outcome = ((): { answer: AgentAnswer; outcome: ForwardUse["outcome"] } => {
      const refuse = (error: ForwardRefusal) => ({
        answer: { ok: false as const, error },
        outcome: error,
      });
      if (Date.parse(forward.expiresAt) <= Date.now()) return refuse("forward expired");
      if (op === "status") {
        const readable = [...items.keys()].filter((name) => {
          const of = accountOfItem(name);
          return of !== undefined && forward.hosts.includes(of.host);
        });
        return {
          answer: {
            ok: true,
            status: {
              pid: Deno.pid,
              expiresAt: forward.expiresAt,
              items: readable.length,
              forwarded: forward.hosts,
            },
          },
          outcome: "allowed",
        };
      }
      if (op !== "get") return refuse("read-only");
      if (!account || !forward.hosts.includes(account.host)) return refuse("not forwarded");
      const value = items.get(request.item as string) as Record<string, unknown> | undefined;
      if (value === undefined || value === null) {
        return { answer: { ok: true, value: null }, outcome: "allowed" };
      }
      if (typeof value !== "object" || typeof value.accessToken !== "string") {
        return refuse("not forwarded");
      }
      const expiry = typeof value.expiresAt === "string" ? value.expiresAt : undefined;
      if (needsRefresh(expiry)) return refuse("refresh needed");
      // The access token alone: no refresh token, no client secret.
      return {
        answer: {
          ok: true,
          value: { accessToken: value.accessToken, ...(expiry ? { expiresAt: expiry } : {}) },
        },
        outcome: "allowed",
      };
    })();
    const use: ForwardUse = {
      time: new Date().toISOString(),
      id: forward.id,
      op: terminalSafe(op),
      ...(account
        ? {
          item: `${terminalSafe(account.login, { max: 100 })} on ${
            terminalSafe(account.host, { max: 200 })
          }`,
        }
        : {}),
      outcome: outcome.outcome,
    };
    uses.push(use);
    if (uses.length > MAX_USES_KEPT) uses.shift();
    log(formatUse(use));
    return outcome.answer;
  };
  const accepting = serveMessages(listener, (request) => answer(request));
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
  forwards.length = 0;
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
 * One use of a forwarded key as a log line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatUse } from "./agent_server.ts";
 * assert.equal(
 *   formatUse({ time: "2026-01-01T00:00:00.000Z", id: 1, op: "get", item: "octocat on github.com", outcome: "allowed" }),
 *   "2026-01-01T00:00:00.000Z forwarded key 1: get octocat on github.com: allowed",
 * );
 * ```
 */
export function formatUse(use: ForwardUse): string {
  return `${use.time} forwarded key ${use.id}: ${use.op}${use.item ? ` ${use.item}` : ""}: ${
    use.outcome === "allowed" ? "allowed" : `refused (${use.outcome})`
  }`;
}

/** 32 random bytes as 64 hex digits. */
function randomKey(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
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
  const info = statOrUndefined(socket, { link: true });
  if (info === undefined) return;
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
