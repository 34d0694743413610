/**
 * The background half of a two-step login (`login --no-wait`): a small
 * process that holds the loopback callback server and the device poll of
 * one login, says once what the user must do (the URL, the device code),
 * then waits for the login to end and hands its outcome to `login --resume`
 * over a control port (see `store/pending_logins.ts` for who may ask).
 *
 * It is bounded: it ends when the login's timeout passes, on SIGTERM/SIGHUP,
 * and after the login ended once a resume collected the outcome or
 * {@linkcode RESULT_GRACE_MS} (at most the timeout) passed, whichever is
 * first; its state file and ports go with it.
 * @module
 */
import type { AppOptions } from "../core/app.ts";
import { LoopauthError } from "../core/errors.ts";
import type { Flow } from "../core/types.ts";
import { after } from "../core/timers.ts";
import { serveMessages } from "../store/agent_protocol.ts";
import { constantTimeEqual } from "../core/constant_time.ts";
import { newWaiterKey, removePendingLogin, writePendingLogin } from "../store/pending_logins.ts";
import type { StorageName } from "../store/secrets.ts";
import { configDir as defaultConfigDir } from "../store/paths.ts";
import { loopbackPeer } from "../platform/socket_owner.ts";
import { login, type LoginResult } from "./login.ts";

/** How long an ended login's outcome waits for a resume at most. */
export const RESULT_GRACE_MS = 60_000;

/** The waiter protocol's version. */
export const WAITER_PROTOCOL = 1;

/** What a waiter is asked to do: one login's settings (the client secret among them). */
export interface WaiterJob {
  /** The login's id. */
  id: string;
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** An OAuth 2.0 / OpenID Connect issuer URL instead of GitHub. */
  issuer?: string;
  /** With `issuer`: continue when its metadata does not list PKCE S256. */
  allowNoPkceMetadata?: boolean;
  /** The client id. */
  clientId: string;
  /** The client secret, when the app has one. */
  clientSecret?: string;
  /** Scopes, comma- or space-separated. */
  scopes?: string;
  /** Where to store the token. */
  storage?: StorageName;
  /** A fixed callback port. */
  port?: number;
  /** Milliseconds the login may take. */
  timeout: number;
  /** The routes to run. */
  flows: Flow[];
  /** The config directory. */
  configDir?: string;
  /** The app the login is for (default loopauth): its keyring service, agent and words. */
  app?: AppOptions;
  /** The exact redirect URI a registration demands (`--redirect-uri`). */
  redirectUri?: string;
  /** `--prompt`. */
  prompt?: string;
  /** `--login-hint`. */
  loginHint?: string;
  /** `--param NAME=VALUE`, checked by the starting process. */
  params?: Record<string, string>;
}

/** What the waiter tells once the login's routes are shown. */
export interface WaiterReady {
  /** The login's id. */
  id: string;
  /** The authorization URL (the provider's), when the browser route runs. */
  url?: string;
  /** The one-time start URL on the callback server: the one to hand a browser opener. */
  startUrl?: string;
  /** The device code to enter, when the host offers the device flow. */
  userCode?: string;
  /** Where to enter it. */
  verificationUri?: string;
  /** The device page with the code filled in, when the host names one. */
  verificationUriComplete?: string;
  /** ISO time the login gives up. */
  expiresAt: string;
  /** One-line warnings (e.g. about the issuer's metadata or the device page). */
  warnings: string[];
}

/** A login's outcome as the waiter hands it on: never the token. */
export type WaiterOutcome =
  | { ok: true; result: Omit<LoginResult, "accessToken" | "refreshToken"> }
  | { ok: false; error: { code: string; message: string } };

/** Options of {@linkcode runLoginWaiter}. */
export interface RunLoginWaiterOptions {
  /** Called once the routes are shown (or the login failed before). */
  onReady: (ready: WaiterReady) => void;
  /** Aborting ends the login and the waiter. */
  signal?: AbortSignal;
}

/**
 * Runs one two-step login until the waiter ends. A login that fails before
 * its routes are shown throws (nothing was written); afterwards every
 * outcome goes to a resume.
 *
 * @example
 * ```ts ignore
 * import { runLoginWaiter } from "./login_waiter.ts";
 * await runLoginWaiter(
 *   { id: "0123456789abcdef", clientId: "Iv1.abc", timeout: 300_000, flows: ["web", "device"] },
 *   { onReady: (ready) => console.log(JSON.stringify(ready)) },
 * );
 * ```
 */
export async function runLoginWaiter(
  job: WaiterJob,
  options: RunLoginWaiterOptions,
): Promise<void> {
  if (job.flows.length === 0) throw new LoopauthError("usage", "A login needs a route");
  const dir = job.configDir ?? defaultConfigDir();
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const expiresAt = new Date(Date.now() + job.timeout).toISOString();
  const warnings: string[] = [];
  const shown: Partial<WaiterReady> = {};
  // A route that dropped out (no device flow here, a port in use) is waited for no longer.
  let webOut = !job.flows.includes("web");
  let deviceOut = !job.flows.includes("device");
  const { promise: allShown, resolve: showAll } = Promise.withResolvers<void>();
  const check = () => {
    if ((shown.url || webOut) && (shown.userCode || deviceOut)) showAll();
  };
  // Paste-back without a terminal: `--resume --code` lines go in here, refusals come back.
  let pasted: ReadableStreamDefaultController<Uint8Array> | undefined;
  const input = new ReadableStream<Uint8Array>({ start: (c) => void (pasted = c) });
  let refused: ((message: string) => void) | undefined;
  const outcome: Promise<WaiterOutcome> = login({
    hostname: job.hostname,
    issuer: job.issuer,
    allowNoPkceMetadata: job.allowNoPkceMetadata,
    clientId: job.clientId,
    clientSecret: job.clientSecret,
    scopes: job.scopes,
    storage: job.storage,
    port: job.port,
    redirectUri: job.redirectUri,
    prompt: job.prompt,
    loginHint: job.loginHint,
    params: job.params,
    timeout: job.timeout,
    configDir: dir,
    ...(job.app ? { app: job.app } : {}),
    signal,
    flow: job.flows,
    // In the background: the routes go back to the starting process, no status line.
    progress: false,
    onWarning: (message) => warnings.push(message),
    openBrowser: (url, { startUrl }) => {
      Object.assign(shown, { url, startUrl });
      check();
    },
    onDeviceCode: (code) => {
      Object.assign(shown, {
        userCode: code.userCode,
        verificationUri: code.verificationUri,
        ...(code.verificationUriComplete
          ? { verificationUriComplete: code.verificationUriComplete }
          : {}),
      });
      check();
    },
    onFlowChosen: (choice) => {
      if (!choice.flows.includes("device")) deviceOut = true;
      if (!choice.flows.includes("web")) webOut = true;
      warnings.push(choice.reason);
      check();
    },
    pasteBack: {
      input,
      write: (line) => {
        if (line.startsWith("Not accepted: ")) refused?.(line.slice("Not accepted: ".length));
      },
    },
  }).then(
    ({ accessToken: _, refreshToken: __, ...result }) => ({ ok: true as const, result }),
    (error) => ({
      ok: false as const,
      error: error instanceof LoopauthError
        ? { code: error.code, message: error.message }
        : { code: "unexpected", message: error instanceof Error ? error.message : String(error) },
    }),
  );
  const first = await Promise.race([allShown.then(() => undefined), outcome]);
  if (first !== undefined && !first.ok) {
    throw new LoopauthError(first.error.code as LoopauthError["code"], first.error.message);
  }

  const key = newWaiterKey();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const { promise: ended, resolve: end } = Promise.withResolvers<void>();
  const onSignal = () => {
    stop.abort(new LoopauthError("cancelled", "The two-step login was stopped"));
    end();
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? [] : ["SIGTERM", "SIGHUP"];
  for (const name of signals) Deno.addSignalListener(name, onSignal);
  // A hard stop a little after the timeout, whatever the routes do.
  const cancelHard = after(job.timeout + Math.min(RESULT_GRACE_MS, job.timeout) + 5_000, end);
  let cancelGrace = () => {};
  let settled: WaiterOutcome | undefined;
  void outcome.then((result) => {
    settled = result;
    cancelGrace = after(Math.min(RESULT_GRACE_MS, job.timeout), end);
  });
  try {
    await writePendingLogin(dir, { id: job.id, pid: Deno.pid, port, key, expiresAt });
  } catch (error) {
    listener.close();
    stop.abort(error);
    await outcome;
    cancelHard();
    for (const name of signals) Deno.removeSignalListener(name, onSignal);
    throw error;
  }

  const answer = async (request: Record<string, unknown>): Promise<unknown> => {
    if (request.v !== WAITER_PROTOCOL) return { ok: false, error: "unsupported protocol version" };
    if (typeof request.key !== "string" || !constantTimeEqual(request.key, key)) {
      return { ok: false, error: "forbidden" };
    }
    if (request.op === "status") return { ok: true, pid: Deno.pid, expiresAt };
    if (request.op === "code") {
      if (typeof request.input !== "string" || request.input.length > 16_384) {
        return { ok: false, error: "malformed request" };
      }
      if (webOut) {
        return {
          ok: true,
          outcome: {
            ok: false,
            error: {
              code: "usage",
              message: "This login has no browser route to paste into: resume it without --code",
            },
          },
        };
      }
      const refusal = new Promise<WaiterOutcome>((resolve) => {
        refused = (message) =>
          resolve({
            ok: false,
            error: {
              code: "usage",
              message: `Not accepted: ${message}; the login still waits`,
            },
          });
      });
      pasted?.enqueue(
        new TextEncoder().encode(`${request.input.replace(/[\r\n]+/g, " ").trim()}\n`),
      );
      const result = await Promise.race([outcome, refusal]);
      refused = undefined;
      return { ok: true, outcome: result, final: result === settled };
    }
    if (request.op === "wait") return { ok: true, outcome: await outcome, final: true };
    return { ok: false, error: "malformed request" };
  };
  const finals = new WeakSet<object>();
  const accepting = serveMessages(listener, async (request) => {
    const { final, ...reply } = await answer(request) as { final?: boolean };
    if (final) finals.add(reply);
    return reply;
  }, {
    // Only the user's own sockets on Linux (root's too); elsewhere the key alone.
    admit: async (conn) => {
      const peer = conn.remoteAddr as Deno.NetAddr;
      return await loopbackPeer(port, peer.port, { peerAddress: peer.hostname }) !== "foreign";
    },
    // The outcome reached a resume: nothing is left to wait for.
    onReplied: (reply) => {
      if (finals.has(reply)) queueMicrotask(end);
    },
  });
  try {
    options.onReady({ id: job.id, ...shown, expiresAt, warnings: [...warnings] });
  } catch { /* whoever started it stopped reading: the login goes on */ }
  await ended;
  stop.abort(new LoopauthError("timeout", "The two-step login ended"));
  cancelHard();
  cancelGrace();
  for (const name of signals) Deno.removeSignalListener(name, onSignal);
  await removePendingLogin(dir, job.id, key);
  try {
    listener.close();
  } catch { /* closed */ }
  await accepting;
  await outcome;
  try {
    pasted?.close();
  } catch { /* closed */ }
}
