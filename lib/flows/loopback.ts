/**
 * The authorization-code flow for native apps (RFC 8252) with PKCE S256:
 * build the URL, show it and open a browser, wait for the one valid
 * callback, exchange the code while the browser waits for its page.
 * @module
 */
import type { AuthorizationResponse } from "../core/types.ts";
import type { Page } from "../core/pages.ts";
import { createAuthorizationSecrets } from "./pkce.ts";
import { type CallbackServer, serveCallback } from "./callback_server.ts";
import { type PasteBackOptions, readPastedCallbacks } from "./paste_back.ts";
import type { LoopbackRedirect } from "./redirect_uri.ts";

/** What the flow hands to `complete` with the code. */
export type CodeContext = AuthorizationResponse;

/** Options of {@linkcode loopbackFlow}. */
export interface LoopbackFlowOptions<T> {
  /** The authorization endpoint URL. */
  authorizationEndpoint: string;
  /** The client id. */
  clientId: string;
  /** Scopes to ask for (may be empty). */
  scopes?: string[];
  /** Fixed port for providers that demand an exact redirect URI (default: from the OS). */
  port?: number;
  /** The redirect URI's host, port and path a registration demands (see `parseRedirectUri`). */
  redirect?: LoopbackRedirect;
  /** Milliseconds to wait for the callback (default 5 minutes). */
  timeout?: number;
  /** Aborting stops the login and frees the port. */
  signal?: AbortSignal;
  /** Expected `iss` in the callback (RFC 9207), when the server sends one. */
  issuer?: string;
  /** Extra authorization request parameters (e.g. `nonce`). */
  extraParams?: Record<string, string>;
  /**
   * Called with the authorization URL before waiting (print it here), and
   * with the one-time `startUrl` that redirects to it: hand only that one to
   * other programs (a browser opener), whose arguments every local user can
   * read (see {@linkcode CallbackServer.startUrlFor}).
   */
  onAuthorizationUrl?: (url: string, context: { startUrl: string }) => void | Promise<void>;
  /** Exchanges the code (and stores the result); its value is the flow's. */
  complete: (context: CodeContext) => Promise<T>;
  /** The browser's success page for the completed value. */
  successPage?: (value: T) => Pick<Page, "title" | "message">;
  /** The app's name in every page's tab title and footer (default `loopauth`). */
  brand?: string;
  /** How a failure's message is said on its page (default: as it is). */
  pageText?: (message: string) => string;
  /** Also accept the redirect URL (or code) pasted into `input` (see `paste_back.ts`). */
  pasteBack?: Pick<PasteBackOptions, "input" | "write">;
  /** Told when a request from another user's connection was refused (the wait goes on). */
  onWarning?: (message: string) => void;
}

/**
 * Builds the authorization URL of RFC 6749 §4.1.1 with PKCE S256.
 *
 * @example
 * ```ts
 * import { buildAuthorizationUrl } from "./loopback.ts";
 * const url = buildAuthorizationUrl("https://github.com/login/oauth/authorize", {
 *   clientId: "Iv1.abc", redirectUri: "http://127.0.0.1:8000/callback", scopes: ["read:user"],
 *   state: "s", codeChallenge: "c",
 * });
 * ```
 */
export function buildAuthorizationUrl(
  endpoint: string,
  options: {
    clientId: string;
    redirectUri: string;
    scopes?: string[];
    state: string;
    codeChallenge: string;
    extraParams?: Record<string, string>;
  },
): string {
  const url = new URL(endpoint);
  const params = url.searchParams;
  params.set("response_type", "code");
  params.set("client_id", options.clientId);
  params.set("redirect_uri", options.redirectUri);
  if (options.scopes?.length) params.set("scope", options.scopes.join(" "));
  params.set("state", options.state);
  params.set("code_challenge", options.codeChallenge);
  params.set("code_challenge_method", "S256");
  for (const [key, value] of Object.entries(options.extraParams ?? {})) params.set(key, value);
  return url.href;
}

/**
 * Runs the loopback flow once and returns what `complete` returned.
 *
 * @throws {LoopauthError} `access_denied`, `oauth` (`reason: "issuer_mismatch"` for a wrong `iss`),
 * `timeout`, `port_in_use` or `cancelled`, and what `complete` throws
 *
 * @example
 * ```ts ignore
 * import { loopbackFlow } from "./loopback.ts";
 * const code = await loopbackFlow({
 *   authorizationEndpoint: "https://github.com/login/oauth/authorize",
 *   clientId: "Iv1.abc",
 *   onAuthorizationUrl: (url) => console.error(url),
 *   complete: ({ code }) => Promise.resolve(code),
 * });
 * ```
 */
export async function loopbackFlow<T>(options: LoopbackFlowOptions<T>): Promise<T> {
  const secrets = await createAuthorizationSecrets();
  const stop = new AbortController();
  const server: CallbackServer<T> = serveCallback<T>({
    state: secrets.state,
    port: options.port,
    redirect: options.redirect,
    signal: options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal,
    timeout: options.timeout,
    issuer: options.issuer,
    onRefused: (message) =>
      options.onWarning?.(
        options.pasteBack ? `${message}: if it was your browser, paste its address here` : message,
      ),
    onCallback: ({ code, params }) =>
      options.complete({
        code,
        params,
        redirectUri: server.redirectUri,
        codeVerifier: secrets.codeVerifier,
      }),
    successPage: options.successPage,
    brand: options.brand,
    pageText: options.pageText,
  });
  const url = buildAuthorizationUrl(options.authorizationEndpoint, {
    clientId: options.clientId,
    redirectUri: server.redirectUri,
    scopes: options.scopes,
    state: secrets.state,
    codeChallenge: secrets.codeChallenge,
    extraParams: options.extraParams,
  });
  try {
    await options.onAuthorizationUrl?.(url, { startUrl: server.startUrlFor(url) });
  } catch (error) {
    stop.abort(error);
    await server.result.catch(() => {});
    throw error;
  }
  if (!options.pasteBack) return await server.result;
  const pasting = readPastedCallbacks(server.submit, {
    ...options.pasteBack,
    signal: stop.signal,
    redirectUri: server.redirectUri,
    codeAlone: server.codeAlone,
  });
  try {
    return await server.result;
  } finally {
    stop.abort();
    await pasting;
  }
}
