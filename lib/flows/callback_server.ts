/**
 * The one-shot loopback callback server of RFC 8252: listens on 127.0.0.1 on
 * a port from the OS, accepts exactly one valid `GET /callback`, answers it
 * with a small page and tears itself down. A registration that demands its
 * own redirect URI (`[::1]`, `localhost`, a fixed port, another path) gets
 * exactly that instead.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { formatDuration } from "../core/duration.ts";
import { listenError } from "../core/listen_error.ts";
import { type Page, pageResponse, SECURITY_HEADERS } from "../core/pages.ts";
import { constantTimeEqual } from "../core/constant_time.ts";
import { terminalSafe } from "../core/text.ts";
import { after, within } from "../core/timers.ts";
import { loopbackPeer } from "../platform/socket_owner.ts";
import { DEFAULT_REDIRECT, type LoopbackRedirect } from "./redirect_uri.ts";

/** A callback that passed every check: the right Host, path and `state`. */
export interface CallbackParams {
  /** The authorization code. */
  code: string;
  /** Every query parameter of the callback. */
  params: URLSearchParams;
}

/** Options of {@linkcode serveCallback}. */
export interface ServeCallbackOptions<T> {
  /** The `state` sent in the authorization request; compared in constant time. */
  state: string;
  /** Port to listen on; 0 (the default) lets the OS pick a free one. */
  port?: number;
  /**
   * The redirect URI's host and path (default `127.0.0.1` and `/callback`;
   * see `parseRedirectUri`); its port, when it has one, wins over `port`.
   * `localhost` listens on 127.0.0.1 and, where the machine has IPv6, on
   * `::1` at the same port, and accepts `Host: localhost:PORT` only.
   */
  redirect?: LoopbackRedirect;
  /** Aborting stops the wait at once and frees the port. */
  signal?: AbortSignal;
  /** How long to wait for the callback, in milliseconds (default 5 minutes). */
  timeout?: number;
  /** When set, the callback's `iss` (RFC 9207) must equal it. */
  issuer?: string;
  /**
   * Whose the client socket at `peerPort` is (default: Linux's socket table,
   * see `platform/socket_owner.ts`); only `foreign` is refused.
   */
  peer?: (
    serverPort: number,
    peerPort: number,
    options: { peerAddress: string },
  ) => Promise<"own" | "foreign" | "unknown">;
  /**
   * Told each time a request with this login's start URL or `state` is
   * refused because it came from another user's connection (the wait goes
   * on), so the terminal can say so rather than wait in silence.
   */
  onRefused?: (message: string) => void;
  /**
   * Runs once, with the valid callback, before the browser gets its page (the
   * code exchange goes here, so the page can tell the real outcome). A throw
   * shows an error page and rejects `result`.
   */
  onCallback?: (callback: CallbackParams) => Promise<T> | T;
  /** The success page's title and message for the value `onCallback` returned. */
  successPage?: (value: T) => Pick<Page, "title" | "message">;
  /** The app's name in every page's tab title and footer (default `loopauth`). */
  brand?: string;
  /** How a failure's message is said on its page (default: as it is). */
  pageText?: (message: string) => string;
}

/** A listening callback server. */
export interface CallbackServer<T> {
  /** `http://127.0.0.1:<port>/callback` (or the `redirect` asked for), for the authorization request. */
  redirectUri: string;
  /** The port the OS gave. */
  port: number;
  /**
   * Registers the authorization URL and returns the one-time start URL that
   * redirects to it (`http://127.0.0.1:<port>/start/<128 random bits>`): the
   * only URL to hand to another program such as a browser opener, whose
   * arguments every local user can read. Its first `GET` answers 302 to the
   * authorization URL; a second one means someone else had it and ends the
   * login (`access_denied`). On Linux a connection from another user's
   * socket gets 403 here and on `/callback`, and the wait goes on.
   */
  startUrlFor: (authorizationUrl: string) => string;
  /**
   * Settles once the wait is over and the port is closed: with the value of
   * `onCallback` (or the callback itself), or with a `LoopauthError`
   * (`access_denied`, `oauth`, `timeout`, `cancelled`).
   */
  result: Promise<T>;
  /**
   * Takes a callback pasted by the user (the whole redirect URL, or only the
   * code) and checks it exactly like one from the browser.
   */
  submit: (input: string) => Promise<SubmitResult>;
  /**
   * Whether `submit` takes a code alone: not when `issuer` is set, as the
   * callback's `iss` must be checked and a code alone has none.
   */
  codeAlone: boolean;
  /**
   * How the server went down, once it is: `graceful` (every answer went out
   * and `shutdown()` finished) or `hard` (the abort: timeout, Ctrl-C, or a
   * connection that kept the shutdown from finishing in time).
   */
  teardown: Promise<"graceful" | "hard">;
}

/** What became of a pasted callback. */
export interface SubmitResult {
  /** True when it ended the wait (success or a final error). */
  ended: boolean;
  /** One line for the user. */
  message: string;
}

/**
 * A device flow's user code as GitHub and RFC 8628 §6.1 write them
 * (`WDJB-MJHT`): never an authorization code, so never sent as one.
 */
const DEVICE_USER_CODE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/i;

/** Why a device code pasted at the callback prompt is refused, and where each code goes. */
function deviceCodeHere(redirectUri: string): string {
  return `That is the device code: type it into the browser's device page, not here; here goes the address the browser ends up at after you approve (${redirectUri}?code=…), or only its code`;
}

/** What a pasted code the server refused gets: the wait goes on. */
const REFUSED_PASTE =
  "The server says it is mistyped, expired or already used: paste the code= value from the browser's address bar again, or the whole address (a device code goes into the browser, not here); the login still waits";

/** A token endpoint's answer that the code itself is wrong (GitHub's, then RFC 6749's). */
function isRefusedCode(error: Error): boolean {
  return error instanceof LoopauthError &&
    (error.oauthError === "bad_verification_code" || error.oauthError === "invalid_grant");
}

/** Longest request target accepted; a real callback is far shorter. */
const MAX_URL_LENGTH = 8192;
/** How long a graceful shutdown may take before the hard stop. */
const GRACE_MS = 1000;
/**
 * How long a login waits for the browser unless told otherwise: 5 minutes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_TIMEOUT_MS } from "./callback_server.ts";
 * assert.equal(DEFAULT_TIMEOUT_MS / 60_000, 5);
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/**
 * Starts the callback server. Requests that are not a valid callback get a
 * 4xx page and do not end the wait; the first valid one does.
 *
 * @throws {LoopauthError} `port_in_use` when the port is taken, `usage` for a bad redirect,
 * `permission` when Deno may not listen
 *
 * @example
 * ```ts ignore
 * import { serveCallback } from "./callback_server.ts";
 * const server = serveCallback({ state: crypto.randomUUID(), timeout: 60_000 });
 * console.log(`redirect_uri=${server.redirectUri}`);
 * const { code } = await server.result;
 * ```
 */
export function serveCallback<T = CallbackParams>(
  options: ServeCallbackOptions<T>,
): CallbackServer<T> {
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const tornDown = Promise.withResolvers<"graceful" | "hard">();
  const { promise: result, resolve, reject } = Promise.withResolvers<T>();
  // The caller may attach its handler later (after opening a browser).
  result.catch(() => {});
  let accepted = false;
  let ending = false;
  const startPath = `/start/${randomToken()}`;
  let startTarget: string | undefined;
  let started = false;
  const peer = options.peer ?? loopbackPeer;
  const brand = options.brand;
  const said = options.pageText ?? ((message: string) => message);
  const reply = (
    status: number,
    title: string,
    message: string,
    headers?: Record<string, string>,
  ) => pageResponse(status, { kind: "error", title, message, brand }, headers);
  /** Whether the client of this connection may act for the user (another user's may not). */
  const fromOtherUser = async (info: Deno.ServeHandlerInfo<Deno.NetAddr>) =>
    await peer(port, info.remoteAddr.port, { peerAddress: info.remoteAddr.hostname }) ===
      "foreign";
  const foreign = () => {
    options.onRefused?.(
      "A request for this login came from another user's connection (or one this computer could not trace to you) and was refused",
    );
    return reply(
      403,
      "Not your login",
      "This login belongs to another user of this computer, or this connection could not be traced to its user. Nothing was done. If this is your browser, copy this page's address into the terminal that waits.",
    );
  };

  const handler = async (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> => {
    if (request.url.length > MAX_URL_LENGTH) {
      return reply(414, "Request too long", "This request is longer than any login callback.");
    }
    // DNS rebinding defence: a page on another origin cannot make the
    // browser send this exact Host.
    if (request.headers.get("host") !== expectedHost) {
      return reply(400, "Wrong host", "This server only answers requests for its own address.");
    }
    const url = new URL(request.url);
    if (
      url.pathname !== callbackPath && url.pathname.startsWith("/start/") &&
      startTarget !== undefined
    ) {
      return await start(request, url, info);
    }
    if (url.pathname !== callbackPath) {
      return reply(404, "Not found", "This server only answers the login callback.");
    }
    if (request.method !== "GET") {
      return reply(405, "Method not allowed", "The login callback is a GET request.", {
        Allow: "GET",
      });
    }
    // Only a callback that carries this login's state is worth the look at
    // the socket table: the others are refused anyway.
    const state = url.searchParams.get("state");
    if (state !== null && constantTimeEqual(state, options.state) && await fromOtherUser(info)) {
      return foreign();
    }
    const answer = await receive(url.searchParams);
    return pageResponse(answer.status, { ...answer.page, brand });
  };

  /** The one-time start URL: one redirect to the authorization URL, then never again. */
  const start = async (
    request: Request,
    url: URL,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> => {
    if (!constantTimeEqual(url.pathname, startPath)) {
      return reply(404, "Not found", "This server only answers the login callback.");
    }
    if (request.method !== "GET") {
      return reply(405, "Method not allowed", "The login link is a GET request.", {
        Allow: "GET",
      });
    }
    if (await fromOtherUser(info)) return foreign();
    if (ending) return reply(410, "Login already finished", "Return to the terminal.");
    if (started) {
      accepted = true;
      void end(
        new LoopauthError(
          "access_denied",
          "The browser link of this login was opened twice, so another program may have had it: nothing was stored, run the command again",
        ),
        true,
      );
      return reply(
        410,
        "Login link already used",
        "This link was opened before, maybe by someone else: the login was stopped and nothing was stored. Run the command again.",
      );
    }
    started = true;
    return new Response(null, {
      status: 302,
      headers: { ...SECURITY_HEADERS, Location: startTarget! },
    });
  };

  /** The checks and outcome of a callback, from the browser or pasted. */
  const receive = async (params: URLSearchParams, pasted = false): Promise<Answer> => {
    const reply = (status: number, title: string, message: string): Answer => ({
      status,
      page: { kind: "error", title, message },
    });
    if (accepted || ending) {
      return reply(409, "Login already finished", "Return to the terminal.");
    }
    const state = params.get("state");
    if (state === null || !constantTimeEqual(state, options.state)) {
      return reply(
        400,
        "Invalid request",
        "The state of this callback does not match the login in progress.",
      );
    }
    // From here on the callback belongs to this login: it ends the wait, and
    // its page (200, so the browser logs no failed resource) tells the outcome.
    if (options.issuer !== undefined && params.get("iss") !== options.issuer) {
      accepted = true;
      const error = new LoopauthError(
        "oauth",
        `The authorization response came from the wrong issuer (expected ${options.issuer})`,
        { reason: "issuer_mismatch" },
      );
      void end(error, true);
      return reply(200, "Login failed", `${said(error.message)}. Return to the terminal.`);
    }
    const error = params.get("error");
    if (error !== null) {
      accepted = true;
      const failure = authorizationError(error, params.get("error_description"));
      void end(failure, true);
      return failure.code === "access_denied"
        ? reply(200, "Access denied", "Nothing was stored. You can close this tab.")
        : reply(200, "Login failed", `${said(failure.message)}. Return to the terminal.`);
    }
    const code = params.get("code");
    if (!code) {
      return reply(400, "Invalid request", "The callback has no authorization code.");
    }
    accepted = true;
    // A pasted code may be a typo: the timeout runs on until the server takes it.
    if (!pasted) cancelTimeout();
    try {
      const value = options.onCallback
        ? await options.onCallback({ code, params })
        : { code, params } as T;
      const page = options.successPage?.(value) ??
        { title: "Login complete", message: "You can close this tab and return to the terminal." };
      void end({ value }, true);
      return { status: 200, page: { kind: "success", ...page } };
    } catch (caught) {
      const failure = caught instanceof Error ? caught : new Error(String(caught));
      if (pasted && !ending && isRefusedCode(failure)) {
        // The user's paste, not the browser's: explained, and the wait goes on.
        accepted = false;
        return reply(400, "Code refused", REFUSED_PASTE);
      }
      void end(failure, true);
      return reply(200, "Login failed", `${said(failure.message)}. Return to the terminal.`);
    }
  };

  const redirect = options.redirect ?? DEFAULT_REDIRECT;
  const callbackPath = redirect.path;
  const servers = listen(redirect, redirect.port ?? options.port ?? 0, {
    handler,
    flag: options.redirect ? "--redirect-uri" : "--port",
  });
  const port = servers[0].server.addr.port;
  // As the browser sends it: without the port for port 80 (`Host: 127.0.0.1`).
  const expectedHost = new URL(`http://${redirect.host}:${port}`).host;

  const cancelTimeout = after(timeout, () => {
    void end(
      new LoopauthError(
        "timeout",
        `Timed out after ${
          formatDuration(timeout)
        } waiting for the browser: run the command again, or wait longer with --timeout`,
      ),
    );
  });
  const onAbort = () => {
    const reason = options.signal?.reason;
    void end(
      reason instanceof LoopauthError
        ? reason
        : new LoopauthError("cancelled", "Login cancelled", { cause: reason }),
    );
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  /**
   * Ends the wait: lets the answer in flight go out (graceful), closes the
   * port (hard stop for timeout, Ctrl-C and stuck connections), then settles.
   */
  async function end(outcome: { value: T } | Error, graceful = false) {
    if (ending) return;
    ending = true;
    cancelTimeout();
    options.signal?.removeEventListener("abort", onAbort);
    const down = new Set<Deno.HttpServer>();
    if (graceful) {
      await within(
        Promise.all(servers.map(({ server }) => server.shutdown().then(() => down.add(server)))),
        GRACE_MS,
      );
    }
    // Aborting a server that already shut down throws BadResource.
    for (const { server, stop } of servers) if (!down.has(server)) stop.abort();
    await Promise.all(servers.map(({ server }) => server.finished));
    tornDown.resolve(down.size === servers.length ? "graceful" : "hard");
    if (outcome instanceof Error) reject(outcome);
    else resolve(outcome.value);
  }

  const redirectUri = `http://${expectedHost}${callbackPath}`;
  const codeAlone = options.issuer === undefined;

  const submit = async (input: string): Promise<SubmitResult> => {
    const text = input.trim();
    let params: URLSearchParams;
    if (/^https?:\/\//i.test(text)) {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        return { ended: false, message: "That is not a valid URL: paste the whole address" };
      }
      if (url.host !== expectedHost || url.pathname !== callbackPath) {
        return {
          ended: false,
          message:
            `That is not this login's callback: paste the address that starts with ${redirectUri}`,
        };
      }
      params = url.searchParams;
    } else if (DEVICE_USER_CODE.test(text)) {
      return { ended: false, message: deviceCodeHere(redirectUri) };
    } else if (/^[\w.~-]{1,512}$/.test(text)) {
      if (!codeAlone) {
        // No iss to check (RFC 9207): refused, not taken as a mix-up.
        return {
          ended: false,
          message:
            `This issuer names itself in the callback (RFC 9207), which a code alone lacks: paste the whole address from the browser's address bar (${redirectUri}?…)`,
        };
      }
      // A bare code carries no state; PKCE still ties it to this login.
      params = new URLSearchParams({ code: text, state: options.state });
    } else {
      return {
        ended: false,
        message: "Paste the whole address from the browser's address bar, or only the code",
      };
    }
    const answer = await receive(params, true);
    return {
      ended: accepted && answer.status !== 409,
      message: answer.page.kind === "success"
        ? answer.page.title
        : `${answer.page.title}: ${answer.page.message}`,
    };
  };

  const startUrlFor = (authorizationUrl: string): string => {
    startTarget = authorizationUrl;
    return `http://${expectedHost}${startPath}`;
  };

  return {
    redirectUri,
    port,
    startUrlFor,
    result,
    submit,
    codeAlone,
    teardown: tornDown.promise,
  };
}

/** One listening server and its hard stop. */
interface Listening {
  server: Deno.HttpServer<Deno.NetAddr>;
  stop: AbortController;
}

/**
 * Listens where `redirect` says: its one address, or for `localhost` both
 * loopback addresses at one port. The name is not looked up: RFC 6761 §6.3
 * makes `localhost` loopback and browsers resolve it themselves, while a
 * resolver's answer could name any address (RFC 8252 §8.3 prefers the
 * literals). `::1` is skipped where the machine has no IPv6; taken there,
 * an OS port is tried again (a few times), a fixed one is an error: the
 * browser could reach another program on it.
 */
function listen(
  redirect: LoopbackRedirect,
  port: number,
  options: { handler: Deno.ServeHandler<Deno.NetAddr>; flag: string },
): Listening[] {
  const serve = (hostname: string, at: number): Listening => {
    const stop = new AbortController();
    try {
      const server = Deno.serve({
        hostname,
        port: at,
        signal: stop.signal,
        onListen: () => {},
        onError: () => errorReply(500, "Error", "Something went wrong. Return to the terminal."),
      }, options.handler);
      return { server, stop };
    } catch (error) {
      const address = hostname === "::1" ? "[::1]" : hostname;
      throw listenError(error, port, { address, flag: options.flag }) ?? error;
    }
  };
  if (redirect.host !== "localhost") {
    return [serve(redirect.host === "[::1]" ? "::1" : "127.0.0.1", port)];
  }
  for (let attempt = 0;; attempt++) {
    const v4 = serve("127.0.0.1", port);
    try {
      return [v4, serve("::1", v4.server.addr.port)];
    } catch (error) {
      const cause = error instanceof LoopauthError ? error.cause : error;
      if (cause instanceof Deno.errors.AddrNotAvailable) return [v4]; // no IPv6 here
      v4.stop.abort();
      if (port !== 0 || attempt >= 4 || !(cause instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
}

interface Answer {
  status: number;
  page: Page;
}

function errorReply(
  status: number,
  title: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return pageResponse(status, { kind: "error", title, message }, headers);
}

/** 128 random bits, URL-safe. */
function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function authorizationError(error: string, description: string | null): LoopauthError {
  if (error === "access_denied") {
    return new LoopauthError(
      "access_denied",
      "Access was denied in the browser: nothing was stored",
      { oauthError: error },
    );
  }
  const detail = description ? `: ${terminalSafe(description)}` : "";
  return new LoopauthError(
    "oauth",
    `The server refused the login (${terminalSafe(error, { max: 60 })})${detail}`,
    { oauthError: error },
  );
}
