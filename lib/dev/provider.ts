/**
 * A built-in GitHub-compatible authorization server and API on 127.0.0.1,
 * for the demo, for offline development (`loopauth dev-server`) and for
 * tests (`./testing`). It keeps GitHub's quirks: token errors as HTTP 200,
 * JSON only with `Accept: application/json`, comma-separated scopes,
 * single-use codes, PKCE S256, and any port for a registered
 * `http://127.0.0.1/callback`; its API has GitHub Enterprise Server's
 * layout (`/api/v3`, `/api/graphql`), so gh, Octokit and git accept it.
 * This file starts the server and routes requests; the endpoints live
 * beside it by concern (oauth.ts, device.ts, api.ts, applications.ts,
 * graphql.ts, git.ts), https in tls.ts, the user's part in user.ts.
 * @module
 */
import { apiEndpoint } from "./api.ts";
import { customRoute } from "./custom.ts";
import { deviceEndpoints } from "./device.ts";
import { gitEndpoint, gitRoute } from "./git.ts";
import { graphqlEndpoint } from "./graphql.ts";
import { oauthEndpoints } from "./oauth.ts";
import { formTokens } from "./form_tokens.ts";
import { allowedHosts, isAllowedHost } from "./hosts.ts";
import { MAX_BODY_BYTES, readBody, record } from "./limits.ts";
import { apiError, html } from "./responses.ts";
import { escapeHtml } from "../core/text.ts";
import type { DevState, IssuedToken } from "./state.ts";
import { type DevCertificate, makeCertificate } from "./tls.ts";
import type { DevProvider, DevProviderOptions, DevUser } from "./types.ts";
import { workdir } from "./workdir.ts";

export type {
  DevProvider,
  DevProviderOptions,
  DevRepository,
  DevRoute,
  DevRouteContext,
  DevUser,
  ExpiringTokens,
  RecordedRequest,
} from "./types.ts";
export { actAsUser, approveDeviceCode, type UserOptions } from "./user.ts";

const REGISTERED_CALLBACK = "http://127.0.0.1/callback";
const DEFAULT_USER: DevUser = { login: "octocat", id: 583231, name: "The Octocat" };
const REPOSITORY_NAME = "hello-world";

/**
 * Starts the provider on 127.0.0.1 (with `tls`, https: its certificate is
 * made first, by `openssl`).
 *
 * @example
 * ```ts ignore
 * import { startDevProvider } from "./provider.ts";
 * const provider = startDevProvider({ autoApprove: true });
 * console.log(`loopauth login --hostname ${provider.origin} --client-id ${provider.clientId}`);
 * await provider.close();
 * ```
 */
export function startDevProvider(options: DevProviderOptions = {}): DevProvider {
  const tokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, IssuedToken & { accessToken: string }>();
  const live = (token: IssuedToken) => token.expires === undefined || token.expires > Date.now();
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  const files = workdir(options.dir);
  const user = options.user ?? DEFAULT_USER;

  const provider: DevProvider = {
    origin: "",
    apiUrl: "",
    graphqlUrl: "",
    repository: { fullName: `${user.login}/${REPOSITORY_NAME}`, cloneUrl: "" },
    clientId: options.clientId ?? "loopauth-dev",
    clientSecret: options.clientSecret ?? "loopauth-dev-secret",
    autoApprove: options.autoApprove ?? false,
    user,
    ...(options.expiringTokens ? { expiringTokens: options.expiringTokens } : {}),
    ...(options.scopesGranted ? { scopesGranted: options.scopesGranted } : {}),
    deviceFlowDisabled: options.deviceFlowDisabled ?? false,
    forceSlowDown: 0,
    requests: [],
    activeTokens: () => [...tokens].filter(([, t]) => live(t)).map(([token]) => token),
    activeRefreshTokens: () =>
      [...refreshTokens].filter(([, t]) => live(t)).map(([token]) => token),
    close: async () => {
      controller.abort();
      await stopped;
    },
  };

  const state: DevState = {
    provider,
    registered: options.registeredCallback ?? REGISTERED_CALLBACK,
    pending: new Map(),
    codes: new Map(),
    tokens,
    refreshTokens,
    live,
    lastId: 0,
    repository: { owner: user, name: REPOSITORY_NAME },
    workdir: files,
    forms: formTokens(),
  };
  const device = deviceEndpoints(provider, {
    interval: options.deviceInterval ?? 5,
    expiresIn: options.deviceExpiresIn ?? 900,
    slowDownIncrement: options.slowDownIncrement ?? 5,
    complete: options.verificationUriComplete ?? false,
    forms: state.forms,
    appName: () => provider.clientId,
    client: (_request, params) =>
      Promise.resolve(
        params.get("client_id") === provider.clientId ? provider.clientId : undefined,
      ),
    issue: (scopes) => oauth.issue(scopes, provider.user),
  });
  const oauth = oauthEndpoints(state, device);
  const api = apiEndpoint(state);
  const graphql = graphqlEndpoint(state);
  const git = gitEndpoint(state);

  // Set once the server listens (the port comes from the OS); no request arrives before.
  let hosts = new Set<string>();
  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    // DNS rebinding: refused before any handler runs, and not recorded.
    if (!isAllowedHost(request, hosts)) return misdirected(url.pathname, hosts);
    const route = gitRoute(url.pathname);
    // git's bodies are binary and read (up to their own bound) only once git's caller is known.
    const bytes = route ? new Uint8Array() : await readBody(request, MAX_BODY_BYTES);
    const body = bytes ? new TextDecoder().decode(bytes) : "";
    record(provider.requests, {
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      body,
      time: performance.now(),
    });
    if (!bytes) return tooLarge(url.pathname, MAX_BODY_BYTES);
    if (route) return await git(request, route);
    if (url.pathname === "/login/oauth/authorize") {
      if (request.method === "GET") return oauth.authorize(url);
      if (request.method === "POST") return oauth.decide(body);
    }
    if (url.pathname === "/login/oauth/access_token" && request.method === "POST") {
      return await oauth.accessToken(request, body);
    }
    if (url.pathname === "/login/device/code" && request.method === "POST") {
      return await device.code(request, body);
    }
    if (url.pathname === "/login/device") {
      if (request.method === "GET") return device.page(url);
      if (request.method === "POST") return device.decide(body);
    }
    if (url.pathname === "/api/graphql") return await graphql(request, body);
    if (url.pathname === "/api/v3" || url.pathname.startsWith("/api/v3/")) {
      const path = url.pathname.slice("/api/v3".length);
      const own = options.routes
        ? await customRoute(state, options.routes, { request, path, body })
        : undefined;
      return own ?? await api(request, path, body);
    }
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
      return apiError(404, "Not Found");
    }
    return html(404, "Not found", "<p>This is a loopauth development server.</p>");
  };

  let certificate: DevCertificate | undefined;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    if (options.tls) certificate = makeCertificate(files.path());
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: options.port ?? 0,
      signal,
      onListen: () => {},
      ...(certificate ? { cert: certificate.cert, key: certificate.key } : {}),
    }, handler);
  } catch (error) {
    files.removeSync();
    throw error;
  }
  // However it stops (close, or the caller's signal), its files go with it.
  const stopped = server.finished.then(() => files.remove());
  provider.origin = new URL(`${certificate ? "https" : "http"}://127.0.0.1:${server.addr.port}`)
    .origin;
  hosts = allowedHosts(provider.origin);
  provider.apiUrl = `${provider.origin}/api/v3`;
  provider.graphqlUrl = `${provider.origin}/api/graphql`;
  provider.repository.cloneUrl = `${provider.origin}/${provider.repository.fullName}.git`;
  if (certificate) provider.caFile = certificate.caFile;
  return provider;
}

/**
 * A refusal in the form the client of `pathname` reads: GitHub's JSON error
 * under `/api`, a line of text for git, else a page.
 */
function refusal(pathname: string, status: number, title: string, message: string): Response {
  if (pathname === "/api" || pathname.startsWith("/api/")) return apiError(status, message);
  if (gitRoute(pathname)) {
    return new Response(`${message}\n`, {
      status,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
    });
  }
  return html(status, title, `<p>${escapeHtml(message)}.</p>`);
}

/** 421 for a request addressed to a name the provider is not reached by. */
function misdirected(pathname: string, hosts: Set<string>): Response {
  const names = [...hosts].join(", ");
  return refusal(
    pathname,
    421,
    "Misdirected request",
    `This loopauth dev-server answers only requests for ${names || "its own address"}`,
  );
}

/** 413 for a body over `max` bytes. */
function tooLarge(pathname: string, max: number): Response {
  return refusal(
    pathname,
    413,
    "Request too large",
    `The request body is over ${max / 1024 / 1024} MiB, the most this dev-server reads`,
  );
}
