/**
 * A built-in GitHub-compatible authorization server and API on 127.0.0.1,
 * for the demo, for offline development (`loopauth dev-server`) and for
 * tests (`./testing`). It keeps GitHub's quirks: token errors as HTTP 200,
 * JSON only with `Accept: application/json`, comma-separated scopes,
 * single-use codes, PKCE S256, and any port for a registered
 * `http://127.0.0.1/callback`. This file starts the server and routes
 * requests; the endpoints live beside it by concern (oauth.ts, device.ts,
 * api.ts), the user's part in user.ts.
 * @module
 */
import { apiEndpoint } from "./api.ts";
import { deviceEndpoints } from "./device.ts";
import { oauthEndpoints } from "./oauth.ts";
import { html } from "./responses.ts";
import type { DevState, IssuedToken } from "./state.ts";
import type { DevProvider, DevProviderOptions, DevUser } from "./types.ts";

export type {
  DevProvider,
  DevProviderOptions,
  DevUser,
  ExpiringTokens,
  RecordedRequest,
} from "./types.ts";
export { actAsUser, approveDeviceCode } from "./user.ts";

const REGISTERED_CALLBACK = "http://127.0.0.1/callback";
const DEFAULT_USER: DevUser = { login: "octocat", id: 583231, name: "The Octocat" };

/**
 * Starts the provider on 127.0.0.1.
 *
 * @example
 * ```ts
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

  const provider: DevProvider = {
    origin: "",
    clientId: options.clientId ?? "loopauth-dev",
    clientSecret: options.clientSecret ?? "loopauth-dev-secret",
    autoApprove: options.autoApprove ?? false,
    user: options.user ?? DEFAULT_USER,
    ...(options.expiringTokens ? { expiringTokens: options.expiringTokens } : {}),
    deviceFlowDisabled: options.deviceFlowDisabled ?? false,
    forceSlowDown: 0,
    requests: [],
    activeTokens: () => [...tokens].filter(([, t]) => live(t)).map(([token]) => token),
    activeRefreshTokens: () =>
      [...refreshTokens].filter(([, t]) => live(t)).map(([token]) => token),
    close: async () => {
      controller.abort();
      await server.finished;
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
  };
  const device = deviceEndpoints(provider, {
    interval: options.deviceInterval ?? 5,
    expiresIn: options.deviceExpiresIn ?? 900,
    slowDownIncrement: options.slowDownIncrement ?? 5,
    complete: options.verificationUriComplete ?? false,
    issue: (scopes) => oauth.issue(scopes, provider.user),
  });
  const oauth = oauthEndpoints(state, device);
  const api = apiEndpoint(state);

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    signal,
    onListen: () => {},
  }, async (request) => {
    const url = new URL(request.url);
    const body = request.body ? await request.text() : "";
    provider.requests.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      body,
      time: performance.now(),
    });
    if (url.pathname === "/login/oauth/authorize") {
      if (request.method === "GET") return oauth.authorize(url);
      if (request.method === "POST") {
        return oauth.decide(new Request(request.url, { method: "POST", body }));
      }
    }
    if (url.pathname === "/login/oauth/access_token" && request.method === "POST") {
      return await oauth.accessToken(request, body);
    }
    if (url.pathname === "/login/device/code" && request.method === "POST") {
      return device.code(request, body);
    }
    if (url.pathname === "/login/device") {
      if (request.method === "GET") return device.page(url);
      if (request.method === "POST") return device.decide(body);
    }
    if (url.pathname.startsWith("/api/v3/")) {
      return api(request, url.pathname.slice("/api/v3".length), body);
    }
    return html(404, "Not found", "<p>This is a loopauth development server.</p>");
  });
  provider.origin = `http://127.0.0.1:${server.addr.port}`;
  return provider;
}
