/**
 * A built-in GitHub-compatible authorization server and API on 127.0.0.1,
 * for the demo, for offline development (`loopauth dev-server`) and for
 * tests. It keeps GitHub's quirks: token errors as HTTP 200, JSON only with
 * `Accept: application/json`, comma-separated scopes, single-use codes, PKCE
 * S256, and any port for a registered `http://127.0.0.1/callback`.
 * @module
 */
import { calculatePKCECodeChallenge } from "npm:oauth4webapi@^3";
import { DEVICE_GRANT_TYPE } from "../core/types.ts";
import { escapeHtml } from "../core/text.ts";
import { SECURITY_HEADERS } from "../core/pages.ts";

/** The user the provider logs in. */
export interface DevUser {
  /** Login name. */
  login: string;
  /** Numeric id. */
  id: number;
  /** Display name. */
  name: string;
}

/** Options of {@linkcode startDevProvider}. */
export interface DevProviderOptions {
  /** Port to listen on (default: from the OS). */
  port?: number;
  /** The one registered client id (default `loopauth-dev`). */
  clientId?: string;
  /** Its client secret (default `loopauth-dev-secret`). */
  clientSecret?: string;
  /** Skip the consent page and approve at once. */
  autoApprove?: boolean;
  /** The user (default octocat). */
  user?: DevUser;
  /**
   * The registered callback URL (default `http://127.0.0.1/callback`); as on
   * GitHub, a loopback redirect may add any port to it.
   */
  registeredCallback?: string;
  /**
   * GitHub's expiring user tokens: `ghu_` access tokens that expire after
   * `accessTtl` seconds (then 401), with single-use `ghr_` refresh tokens
   * valid for `refreshTtl` seconds, rotated by `grant_type=refresh_token`.
   */
  expiringTokens?: ExpiringTokens;
  /** Aborting stops the provider. */
  signal?: AbortSignal;
  /** Seconds between device-flow polls (default 5; fractions allowed for tests). */
  deviceInterval?: number;
  /** Seconds a device code lives (default 900). */
  deviceExpiresIn?: number;
  /** Seconds `slow_down` adds to the interval (default 5, as GitHub). */
  slowDownIncrement?: number;
  /** Answer `device_flow_disabled`, as GitHub does for apps without device flow. */
  deviceFlowDisabled?: boolean;
  /** Also return `verification_uri_complete` (GitHub does not). */
  verificationUriComplete?: boolean;
}

/** Lifetimes of expiring tokens, in seconds. */
export interface ExpiringTokens {
  /** Access token lifetime (GitHub: 28800, 8 hours). */
  accessTtl: number;
  /** Refresh token lifetime (GitHub: 15897600, about 6 months). */
  refreshTtl: number;
}

/** A request the provider received (for tests: "what the server received"). */
export interface RecordedRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  /** The body as text. */
  body: string;
  /** When it arrived (`performance.now()`). */
  time: number;
}

/** A running provider. */
export interface DevProvider {
  /** `http://127.0.0.1:PORT`: pass it as `--hostname`. */
  origin: string;
  /** The registered client id. */
  clientId: string;
  /** The registered client secret. */
  clientSecret: string;
  /** Approve without a consent page (may be changed while running). */
  autoApprove: boolean;
  /** When set, every token request is answered with this GitHub error code. */
  tokenError?: string;
  /** The user the next login is for (may be changed while running). */
  user: DevUser;
  /** Expiring-token mode, when set (may be changed while running). */
  expiringTokens?: ExpiringTokens;
  /** Answer `device_flow_disabled` at `/login/device/code` (may be changed while running). */
  deviceFlowDisabled: boolean;
  /** Answer this many more device polls with `slow_down`, however slow they are. */
  forceSlowDown: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Access tokens currently valid (not revoked, not expired). */
  activeTokens(): string[];
  /** Refresh tokens currently valid (not spent, not revoked, not expired). */
  activeRefreshTokens(): string[];
  /** Stops the provider. */
  close(): Promise<void>;
}

const REGISTERED_CALLBACK = "http://127.0.0.1/callback";
const CODE_TTL_MS = 10 * 60_000;
const DEFAULT_USER: DevUser = { login: "octocat", id: 583231, name: "The Octocat" };

interface IssuedToken {
  clientId: string;
  scopes: string[];
  user: DevUser;
  /** Epoch ms of expiry, in expiring mode. */
  expires?: number;
  /** The refresh token issued with this access token. */
  refreshToken?: string;
}

interface Grant {
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string | null;
}

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
  const registered = options.registeredCallback ?? REGISTERED_CALLBACK;
  const pending = new Map<string, Grant>();
  const codes = new Map<string, Grant & { expires: number; user: DevUser }>();
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

  const redirect = (grant: Grant, params: Record<string, string>) => {
    const url = new URL(grant.redirectUri);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    if (grant.state !== null) url.searchParams.set("state", grant.state);
    return new Response(null, {
      status: 302,
      headers: { ...SECURITY_HEADERS, Location: url.href },
    });
  };

  const approve = (grant: Grant) => {
    const code = randomToken("", 20);
    codes.set(code, { ...grant, expires: Date.now() + CODE_TTL_MS, user: provider.user });
    return redirect(grant, { code });
  };

  const authorize = (url: URL): Response => {
    const q = url.searchParams;
    if (q.get("client_id") !== provider.clientId) {
      return html(404, "Unknown application", "<p>No application has this client_id.</p>");
    }
    const redirectUri = q.get("redirect_uri") ?? registered;
    if (!matchesRegisteredCallback(redirectUri, registered)) {
      return html(
        400,
        "Redirect URI mismatch",
        `<p>The redirect_uri must be ${escapeHtml(registered)} (any port).</p>`,
      );
    }
    const grant: Grant = {
      redirectUri,
      scopes: (q.get("scope") ?? "").split(/[\s,]+/).filter(Boolean),
      state: q.get("state"),
      codeChallenge: q.get("code_challenge"),
    };
    const method = q.get("code_challenge_method") ?? "plain";
    if (grant.codeChallenge !== null && method !== "S256") {
      return redirect(grant, {
        error: "invalid_request",
        error_description: "Only S256 code challenges are supported",
      });
    }
    if (provider.autoApprove) return approve(grant);
    const id = randomToken("", 16);
    pending.set(id, grant);
    const scopes = grant.scopes.length
      ? grant.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join("")
      : "<li>Public information only</li>";
    return html(
      200,
      "Authorize application",
      `
<p><strong>${escapeHtml(provider.clientId)}</strong> wants to access your account
<strong>${escapeHtml(provider.user.login)}</strong> on this loopauth development server.</p>
<ul>${scopes}</ul>
<p>You will be sent back to <code>${escapeHtml(new URL(redirectUri).host)}</code>.</p>
<form method="post" action="/login/oauth/authorize">
<input type="hidden" name="request" value="${escapeHtml(id)}">
<button type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</form>`,
    );
  };

  const decide = async (request: Request): Promise<Response> => {
    const form = new URLSearchParams(await request.text());
    const id = form.get("request") ?? "";
    const grant = pending.get(id);
    if (!grant) return html(400, "Request expired", "<p>Start the login again.</p>");
    pending.delete(id);
    if (form.get("decision") === "authorize") return approve(grant);
    return redirect(grant, {
      error: "access_denied",
      error_description: "The user has denied your application access.",
      error_uri:
        "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied",
    });
  };

  const accessToken = async (request: Request, body: string): Promise<Response> => {
    const params = new URLSearchParams(new URL(request.url).search);
    const type = request.headers.get("content-type") ?? "";
    const parsed = type.includes("application/json")
      ? safeJson(body)
      : Object.fromEntries(new URLSearchParams(body));
    for (const [key, value] of Object.entries(parsed)) params.set(key, String(value));
    // Client credentials may also come as HTTP Basic auth (RFC 6749 §2.3.1).
    const basic = /^basic (\S+)$/i.exec(request.headers.get("authorization") ?? "");
    if (basic) {
      const [id, secret] = atob(basic[1]).split(":").map(decodeURIComponent);
      params.set("client_id", id);
      params.set("client_secret", secret ?? "");
    }
    const wantsJson = (request.headers.get("accept") ?? "").includes("application/json");
    const answer = (data: Record<string, string | number>) =>
      wantsJson ? Response.json(data, { headers: SECURITY_HEADERS }) : new Response(
        new URLSearchParams(Object.entries(data).map(([k, v]) => [k, String(v)])).toString(),
        {
          headers: {
            ...SECURITY_HEADERS,
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
          },
        },
      );
    const fail = (error: string, description: string) =>
      answer({
        error,
        error_description: description,
        error_uri: "https://docs.github.com/apps/troubleshooting-oauth-errors",
      });

    if (provider.tokenError) {
      return fail(provider.tokenError, `Forced ${provider.tokenError} for testing.`);
    }
    const grantType = params.get("grant_type") ?? "authorization_code";
    if (grantType === DEVICE_GRANT_TYPE) return answer(device.poll(params));
    if (grantType !== "authorization_code" && grantType !== "refresh_token") {
      return fail("unsupported_grant_type", "Unsupported grant type.");
    }
    if (
      params.get("client_id") !== provider.clientId ||
      params.get("client_secret") !== provider.clientSecret
    ) {
      return fail(
        "incorrect_client_credentials",
        "The client_id and/or client_secret passed are incorrect.",
      );
    }
    if (grantType === "refresh_token") {
      const refreshToken = params.get("refresh_token") ?? "";
      const old = refreshTokens.get(refreshToken);
      refreshTokens.delete(refreshToken); // single use, whatever happens next
      if (!old || !live(old) || !provider.expiringTokens) {
        return fail("bad_refresh_token", "The refresh token passed is incorrect or expired.");
      }
      return answer(issue(old.scopes, old.user));
    }
    const code = params.get("code") ?? "";
    const grant = codes.get(code);
    codes.delete(code); // single use, whatever happens next
    if (!grant || grant.expires < Date.now()) {
      return fail("bad_verification_code", "The code passed is incorrect or expired.");
    }
    const redirectUri = params.get("redirect_uri");
    if (redirectUri !== null && redirectUri !== grant.redirectUri) {
      return fail(
        "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
      );
    }
    if (grant.codeChallenge !== null) {
      const verifier = params.get("code_verifier") ?? "";
      const ok = /^[A-Za-z0-9._~-]{43,128}$/.test(verifier) &&
        await calculatePKCECodeChallenge(verifier) === grant.codeChallenge;
      if (!ok) {
        return fail(
          "bad_verification_code",
          "The code_verifier does not match the code_challenge.",
        );
      }
    }
    return answer(issue(grant.scopes, grant.user));
  };

  /** A new token (pair, in expiring mode) as the token endpoint answers it. */
  const issue = (scopes: string[], user: DevUser): Record<string, string | number> => {
    const expiring = provider.expiringTokens;
    if (!expiring) {
      const token = randomToken("gho_", 36);
      tokens.set(token, { clientId: provider.clientId, scopes, user });
      return { access_token: token, token_type: "bearer", scope: scopes.join(",") };
    }
    const now = Date.now();
    const token = randomToken("ghu_", 36);
    const refreshToken = randomToken("ghr_", 76);
    tokens.set(token, {
      clientId: provider.clientId,
      scopes,
      user,
      expires: now + expiring.accessTtl * 1000,
      refreshToken,
    });
    refreshTokens.set(refreshToken, {
      clientId: provider.clientId,
      scopes,
      user,
      expires: now + expiring.refreshTtl * 1000,
      accessToken: token,
    });
    return {
      access_token: token,
      expires_in: expiring.accessTtl,
      refresh_token: refreshToken,
      refresh_token_expires_in: expiring.refreshTtl,
      token_type: "bearer",
      scope: scopes.join(","),
    };
  };

  const api = (request: Request, path: string, body: string): Response => {
    const revoke = /^\/applications\/([^/]+)\/(token|grant)$/.exec(path);
    if (revoke && request.method === "DELETE") {
      const expected = `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`;
      if (
        decodeURIComponent(revoke[1]) !== provider.clientId ||
        (request.headers.get("authorization") ?? "").toLowerCase() !== expected.toLowerCase()
      ) {
        return apiJson(401, { message: "Requires authentication" });
      }
      const token = String(safeJson(body).access_token ?? "");
      const issued = tokens.get(token);
      if (!issued) return apiJson(404, { message: "Not Found" });
      tokens.delete(token);
      if (issued.refreshToken) refreshTokens.delete(issued.refreshToken);
      if (revoke[2] === "grant") {
        // The whole authorization: every token and refresh token of the app and user.
        for (const map of [tokens, refreshTokens] as Map<string, IssuedToken>[]) {
          for (const [key, other] of map) if (other.user.id === issued.user.id) map.delete(key);
        }
      }
      return new Response(null, { status: 204, headers: SECURITY_HEADERS });
    }
    const auth = /^(?:token|bearer) (\S+)$/i.exec(request.headers.get("authorization") ?? "");
    const grant = auth ? tokens.get(auth[1]) : undefined;
    if (!grant || !live(grant)) return apiJson(401, { message: "Bad credentials" });
    const user = grant.user;
    if (path === "/user" && request.method === "GET") {
      return apiJson(200, { ...user, type: "User", html_url: `${provider.origin}/${user.login}` }, {
        "X-OAuth-Scopes": grant.scopes.join(", "),
      });
    }
    return apiJson(404, { message: "Not Found" });
  };

  const device = deviceFlow(provider, {
    interval: options.deviceInterval ?? 5,
    expiresIn: options.deviceExpiresIn ?? 900,
    slowDownIncrement: options.slowDownIncrement ?? 5,
    complete: options.verificationUriComplete ?? false,
    issue: (scopes) => issue(scopes, provider.user),
  });

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
      if (request.method === "GET") return authorize(url);
      if (request.method === "POST") {
        return decide(new Request(request.url, { method: "POST", body }));
      }
    }
    if (url.pathname === "/login/oauth/access_token" && request.method === "POST") {
      return await accessToken(request, body);
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

/**
 * Plays the user in a browser for a login URL of the dev provider: loads the
 * consent page, presses Authorize (or Cancel), and follows the redirect to
 * the callback. Returns the callback's answer.
 *
 * @example
 * ```ts
 * import { actAsUser } from "./provider.ts";
 * const page = await actAsUser("http://127.0.0.1:8080/login/oauth/authorize?…", { decision: "authorize" });
 * console.log(page.status);
 * ```
 */
export async function actAsUser(
  authorizationUrl: string,
  options: { decision?: "authorize" | "cancel"; signal?: AbortSignal } = {},
): Promise<{ status: number; body: string }> {
  const signal = options.signal;
  let response = await fetch(authorizationUrl, { redirect: "manual", signal });
  if (response.status === 200) {
    const page = await response.text();
    const id = /name="request" value="([^"]+)"/.exec(page)?.[1];
    if (!id) throw new Error("The consent page has no request id");
    response = await fetch(new URL("/login/oauth/authorize", authorizationUrl), {
      method: "POST",
      body: new URLSearchParams({ request: id, decision: options.decision ?? "authorize" }),
      redirect: "manual",
      signal,
    });
  }
  const location = response.headers.get("location");
  await response.body?.cancel();
  if (response.status !== 302 || !location) {
    throw new Error(`The provider answered HTTP ${response.status} instead of a redirect`);
  }
  const callback = await fetch(location, { redirect: "manual", signal });
  return { status: callback.status, body: await callback.text() };
}

/**
 * Plays the user on the dev provider's `/login/device` page: enters the code
 * and presses Authorize (or Cancel). Returns the page's answer.
 *
 * @example
 * ```ts
 * import { approveDeviceCode } from "./provider.ts";
 * const page = await approveDeviceCode("http://127.0.0.1:8080", "WDJB-MJHT");
 * console.log(page.status); // 200
 * ```
 */
export async function approveDeviceCode(
  origin: string,
  userCode: string,
  options: { decision?: "authorize" | "cancel"; signal?: AbortSignal } = {},
): Promise<{ status: number; body: string }> {
  const form = await fetch(new URL("/login/device", origin), { signal: options.signal });
  const page = await form.text();
  if (!page.includes('name="user_code"')) throw new Error("The device page has no code field");
  const response = await fetch(new URL("/login/device", origin), {
    method: "POST",
    body: new URLSearchParams({ user_code: userCode, decision: options.decision ?? "authorize" }),
    signal: options.signal,
  });
  return { status: response.status, body: await response.text() };
}

interface DeviceGrant {
  userCode: string;
  scopes: string[];
  expires: number;
  /** Milliseconds the client must wait between polls. */
  interval: number;
  lastPoll?: number;
  decision?: "authorize" | "cancel";
}

/** GitHub's device flow (RFC 8628) for the dev provider. */
function deviceFlow(provider: DevProvider, options: {
  interval: number;
  expiresIn: number;
  slowDownIncrement: number;
  complete: boolean;
  issue: (scopes: string[]) => Record<string, string | number>;
}) {
  const grants = new Map<string, DeviceGrant>();
  const byUserCode = new Map<string, string>();
  const fail = (error: string, description: string) => ({
    error,
    error_description: description,
    error_uri:
      "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow",
  });
  const find = (userCode: string) => {
    const deviceCode = byUserCode.get(userCode.trim().toUpperCase()) ?? "";
    const grant = grants.get(deviceCode);
    return grant && grant.expires > Date.now() && !grant.decision ? grant : undefined;
  };
  return {
    code(request: Request, body: string): Response {
      const params = new URLSearchParams(body);
      const json = (status: number, data: Record<string, unknown>) =>
        (request.headers.get("accept") ?? "").includes("application/json")
          ? Response.json(data, { status, headers: SECURITY_HEADERS })
          : new Response(new URLSearchParams(data as Record<string, string>).toString(), {
            status,
            headers: { ...SECURITY_HEADERS, "Content-Type": "application/x-www-form-urlencoded" },
          });
      if (params.get("client_id") !== provider.clientId) {
        return json(400, fail("incorrect_client_credentials", "The client_id is not valid."));
      }
      if (provider.deviceFlowDisabled) {
        return json(
          400,
          fail("device_flow_disabled", "Device Flow must be explicitly enabled for this App"),
        );
      }
      const deviceCode = randomToken("", 40);
      const letters = "BCDFGHJKLMNPQRSTVWXZ";
      const bytes = crypto.getRandomValues(new Uint8Array(8));
      const chars = Array.from(bytes, (b) => letters[b % letters.length]).join("");
      const userCode = `${chars.slice(0, 4)}-${chars.slice(4)}`;
      grants.set(deviceCode, {
        userCode,
        scopes: (params.get("scope") ?? "").split(/[\s,]+/).filter(Boolean),
        expires: Date.now() + options.expiresIn * 1000,
        interval: options.interval * 1000,
      });
      byUserCode.set(userCode, deviceCode);
      const verificationUri = `${provider.origin}/login/device`;
      return json(200, {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: verificationUri,
        ...(options.complete
          ? { verification_uri_complete: `${verificationUri}?user_code=${userCode}` }
          : {}),
        expires_in: options.expiresIn,
        interval: options.interval,
      });
    },

    poll(params: URLSearchParams): Record<string, string | number> {
      if (params.get("client_id") !== provider.clientId) {
        return fail("incorrect_client_credentials", "The client_id is not valid.");
      }
      const deviceCode = params.get("device_code") ?? "";
      const grant = grants.get(deviceCode);
      if (!grant) return fail("incorrect_device_code", "The device_code provided is not valid.");
      const now = performance.now();
      if (grant.expires < Date.now()) {
        grants.delete(deviceCode);
        return fail("expired_token", "The device_code has expired.");
      }
      // A few ms of slack: timers are not exact, but a client that ignores
      // the interval is far faster than this.
      const early = grant.lastPoll !== undefined && now - grant.lastPoll < grant.interval - 5;
      grant.lastPoll = now;
      if (early || provider.forceSlowDown > 0) {
        if (!early) provider.forceSlowDown--;
        grant.interval += options.slowDownIncrement * 1000;
        return {
          ...fail("slow_down", "Too many requests have been made in the same timeframe."),
          interval: String(grant.interval / 1000),
        };
      }
      if (grant.decision === "cancel") {
        grants.delete(deviceCode);
        return fail("access_denied", "The authorization request was denied.");
      }
      if (grant.decision !== "authorize") {
        return fail("authorization_pending", "The authorization request is still pending.");
      }
      grants.delete(deviceCode); // single use
      return options.issue(grant.scopes);
    },

    page(url: URL): Response {
      const prefilled = url.searchParams.get("user_code") ?? "";
      return html(
        200,
        "Device activation",
        `
<p>Enter the code shown in your terminal to let <strong>${escapeHtml(provider.clientId)}</strong>
sign in on that device.</p>
<form method="post" action="/login/device">
<p><input name="user_code" value="${escapeHtml(prefilled)}" placeholder="XXXX-XXXX"
autocomplete="off" autocapitalize="characters" required></p>
<button type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</form>`,
      );
    },

    decide(body: string): Response {
      const form = new URLSearchParams(body);
      const grant = find(form.get("user_code") ?? "");
      if (!grant) {
        return html(404, "Code not found", "<p>The code is wrong, expired or already used.</p>");
      }
      grant.decision = form.get("decision") === "authorize" ? "authorize" : "cancel";
      return grant.decision === "authorize"
        ? html(200, "Device authorized", "<p>Return to your terminal.</p>")
        : html(200, "Access denied", "<p>The device was not authorized.</p>");
    },
  };
}

function matchesRegisteredCallback(uri: string, callback: string): boolean {
  try {
    const url = new URL(uri);
    const registered = new URL(callback);
    // GitHub's loopback rule: same scheme, host and path; any port.
    return url.protocol === registered.protocol && url.hostname === registered.hostname &&
      url.pathname === registered.pathname;
  } catch {
    return false;
  }
}

function randomToken(prefix: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return prefix + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const data = JSON.parse(text);
    return typeof data === "object" && data !== null ? data : {};
  } catch {
    return {};
  }
}

function apiJson(status: number, data: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(data, { status, headers: { ...SECURITY_HEADERS, ...headers } });
}

function html(status: number, title: string, content: string): Response {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · loopauth dev server</title>
<style>
:root{color-scheme:light dark}body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
button{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer;margin-right:.5rem}
button.secondary{background:transparent;color:inherit;border-color:#8c959f}
</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${content}</main></body></html>
`;
  return new Response(page, {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "Content-Security-Policy":
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'",
      "Content-Type": "text/html; charset=utf-8",
    },
  });
}
