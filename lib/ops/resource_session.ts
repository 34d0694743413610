/**
 * A `fetch` for one protected resource during a session (`mcp-proxy`): the
 * token goes only to the resource's origin; a `401` logs in (the
 * challenge's scopes), an expiring or refused token is refreshed first,
 * and a `403 insufficient_scope` naming new scopes re-authorizes for the
 * union, at most {@linkcode MAX_STEP_UPS} times per request so that a
 * server cannot loop the user.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { inApp, resolveApp } from "../core/app.ts";
import type { TokenSet } from "../core/types.ts";
import { needsRefresh } from "../core/expiry.ts";
import { networkError } from "../core/http.ts";
import { terminalSafe } from "../core/text.ts";
import { canonicalResource, fetchStream } from "../providers/resource_url.ts";
import { type BearerChallenge, parseBearerChallenge } from "../providers/www_authenticate.ts";
import { parseScopes } from "./login.ts";
import { resourceToken } from "./resource_account.ts";
import {
  resourceLogin,
  type ResourceLoginOptions,
  type ResourceLoginResult,
} from "./resource_login.ts";

/** How many step-ups one request may cause (a server that never grants its scope stops there). */
export const MAX_STEP_UPS = 2;

/** Options of {@linkcode resourceFetch}: those of a resource login, for each login it makes. */
export interface ResourceSessionOptions extends ResourceLoginOptions {
  /** Called after each login of the session (where it stored the token, for instance). */
  onLogin?: (result: ResourceLoginResult) => void;
}

/** A session's `fetch`, and what it holds. */
export interface ResourceSession {
  /** Sends a request; the token is added only for the resource's origin. */
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** The session's current login, when it logged in. */
  current(): ResourceLoginResult | undefined;
}

/**
 * A fetch that logs in, refreshes and steps up for one resource.
 *
 * @throws {LoopauthError} `session_expired` (the refresh was refused), `usage` (a URL off the
 * resource), what the login throws, and `cancelled`
 *
 * @example
 * ```ts ignore
 * import { resourceFetch } from "./resource_session.ts";
 * const session = resourceFetch({
 *   resource: "https://mcp.example.com/mcp",
 *   onAuthorizationUrl: (url) => console.error(`Open ${url}`),
 * });
 * const response = await session.fetch("https://mcp.example.com/mcp", { method: "POST", body: "{}" });
 * ```
 */
export function resourceFetch(options: ResourceSessionOptions): ResourceSession {
  const origin = new URL(canonicalResource(options.resource)).origin;
  const shown = terminalSafe(canonicalResource(options.resource), { max: 120 });
  let login: ResourceLoginResult | undefined;
  let token: TokenSet | undefined;
  let scopes: string[] | undefined = options.scopes === undefined
    ? undefined
    : parseScopes(options.scopes);
  // One login or refresh at a time: concurrent requests wait for it instead of starting theirs.
  let busy: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = busy.then(work, work);
    busy = next.catch(() => {});
    return next;
  };

  const logIn = (challenge: BearerChallenge | undefined, wanted?: string[]) =>
    serial(async () => {
      login = await resourceLogin({
        ...options,
        challenge,
        ...(wanted ? { scopes: wanted } : {}),
      });
      token = login;
      options.onLogin?.(login);
      scopes = login.scopes.length ? login.scopes : wanted ?? scopes;
    });
  // With `store`: the stored token first, refreshed through the store (under its lock).
  const stored = options.store
    ? {
      configDir: options.configDir,
      app: options.app,
      omitResourceParameter: options.omitResourceParameter,
      signal: options.signal,
    }
    : undefined;
  let loaded = !stored;
  const load = () =>
    serial(async () => {
      if (loaded) return;
      loaded = true;
      try {
        const account = await resourceToken(options.resource, stored);
        token = account.token;
        scopes ??= account.token.scopes;
      } catch (error) {
        // None stored, or a session over: the server's 401 starts a login.
        if (!(error instanceof LoopauthError)) throw error;
        if (error.code !== "not_logged_in" && error.code !== "session_expired") throw error;
      }
    });
  const refresh = (used: TokenSet) =>
    serial(async () => {
      if (token !== used) return true; // another request refreshed it meanwhile
      if (!used.refreshToken || (!login && !stored)) return false;
      try {
        const fresh = stored
          ? (await resourceToken(options.resource, { ...stored, force: true })).token
          : await login!.refresh(used.refreshToken, { signal: options.signal });
        // A server that names no scopes kept the ones granted (RFC 6749 §6).
        if (!fresh.scopes.length) fresh.scopes = used.scopes;
        if (!fresh.refreshToken) fresh.refreshToken = used.refreshToken;
        token = fresh;
        return true;
      } catch (error) {
        if (error instanceof LoopauthError && error.code === "session_expired") return false;
        throw error;
      }
    });

  const send = (request: Request, sent: TokenSet | undefined) => {
    const headers = new Headers(request.headers);
    if (sent) headers.set("authorization", `Bearer ${sent.accessToken}`);
    else headers.delete("authorization");
    // Not followed here: a redirect elsewhere would carry the token there. The SDK follows
    // same-origin ones, through this fetch again.
    return fetchStream(new Request(request, { headers, redirect: "manual" })).catch((error) => {
      // One line naming the resource (a server down, refused, or no such host).
      throw networkError(error, shown, options.signal);
    });
  };

  const fetchFor = async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    // The origin guard: another origin never gets the resource's token (nor a login).
    if (new URL(request.url).origin !== origin) {
      const headers = new Headers(request.headers);
      headers.delete("authorization");
      return await fetchStream(new Request(request, { headers }));
    }
    const body = request.body ? await request.arrayBuffer() : undefined;
    const again = () => new Request(request, { body });
    await load();
    await busy;
    let used = token;
    if (used?.refreshToken && needsRefresh(used.expiresAt)) {
      await refresh(used);
      used = token;
    }
    let response = await send(again(), used);
    let refreshed = false;
    let loggedIn = false;
    let stepUps = 0;
    for (;;) {
      const challenge = parseBearerChallenge(response.headers.get("www-authenticate"));
      if (response.status === 401) {
        if (used && !refreshed && used.refreshToken) {
          refreshed = true;
          if (await refresh(used) && token !== used) {
            await response.body?.cancel();
            used = token;
            response = await send(again(), used);
            continue;
          }
        }
        if (loggedIn) return response;
        await response.body?.cancel();
        loggedIn = true;
        const wanted = challenge?.scope ? union(scopes, parseScopes(challenge.scope)) : scopes;
        await logIn(challenge, wanted);
        used = token;
        response = await send(again(), used);
        continue;
      }
      if (response.status === 403 && challenge?.error === "insufficient_scope" && challenge.scope) {
        const wanted = union(scopes, parseScopes(challenge.scope));
        const grows = wanted.length > (scopes?.length ?? 0);
        if (!grows || stepUps >= MAX_STEP_UPS) return response;
        await response.body?.cancel();
        stepUps++;
        await logIn(challenge, wanted);
        used = token;
        response = await send(again(), used);
        continue;
      }
      return response;
    }
  };
  // Its failures (a stored token's, a refresh's, a login's) are said as the app says them.
  const app = resolveApp(options.app);
  return { fetch: (input, init) => inApp(app, () => fetchFor(input, init)), current: () => login };
}

/** The scopes of `a` and then those of `b` not in it. */
function union(a: readonly string[] | undefined, b: readonly string[]): string[] {
  return [...new Set([...(a ?? []), ...b])];
}
