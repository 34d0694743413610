/**
 * GitHub and GitHub Enterprise Server: endpoints from a host name, the token
 * endpoint with its 200-with-error answers, and token revocation.
 * @module
 */
import { parseJsonObject } from "../core/json.ts";
import {
  DEVICE_GRANT_TYPE,
  type DeviceCode,
  type DeviceGrant,
  type DevicePoll,
  type TokenSet,
} from "../core/types.ts";
import { type ErrorCode, LoopauthError, sessionExpired } from "../core/errors.ts";
import { fetchBounded } from "../core/http.ts";
import { terminalSafe } from "../core/text.ts";
import { isBearerToken, NOT_A_BEARER_TOKEN } from "../core/token_syntax.ts";
import type { GitHubHost } from "./github_host.ts";

/** What GitHub's token endpoint error codes mean for the user. */
const TOKEN_ERRORS: Record<string, string> = {
  incorrect_client_credentials:
    "The client ID or client secret is wrong: check --client-id and --client-secret",
  redirect_uri_mismatch:
    "The redirect URI does not match the app's callback URL: register http://127.0.0.1/callback for the app, or pass the registered one with --redirect-uri",
  bad_verification_code:
    "The authorization code is invalid, expired or already used: run the command again",
  unverified_user_email:
    "The account's primary email address is not verified: verify it, then log in again",
  bad_refresh_token: "The refresh token is invalid or expired: run loopauth login again",
  unsupported_grant_type: "The server does not support this grant type",
  // The device flow's final answers (RFC 8628 §3.5 and GitHub's additions).
  expired_token: "The device code expired before it was entered: run the command again",
  token_expired: "The device code expired before it was entered: run the command again",
  access_denied: "Access was denied in the browser: nothing was stored",
  device_flow_disabled:
    "Device flow is not enabled for this app: tick Enable Device Flow in the app's settings, or log in with --web",
  incorrect_device_code: "The device code is not valid: run the command again",
};

/** Error codes of the token endpoint that are not `oauth` failures. */
const TOKEN_ERROR_CODES: Record<string, ErrorCode> = {
  expired_token: "timeout",
  token_expired: "timeout",
  access_denied: "access_denied",
};

/** Options of {@linkcode exchangeCode}. */
export interface ExchangeCodeOptions {
  /** The authorization code from the callback. */
  code: string;
  /** The exact redirect URI of the authorization request. */
  redirectUri: string;
  /** The PKCE verifier of the authorization request. */
  codeVerifier: string;
  /** OAuth App or GitHub App client id. */
  clientId: string;
  /** Client secret (GitHub requires it for the web flow). */
  clientSecret?: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
  /** Milliseconds the request may take (default 30 s). */
  timeout?: number;
}

/**
 * Exchanges an authorization code for tokens at GitHub's token endpoint.
 *
 * Written by hand: oauth4webapi treats GitHub's HTTP 200 error answers as a
 * protocol violation, and `@octokit/oauth-methods` cannot send the PKCE
 * `code_verifier`.
 *
 * @example
 * ```ts ignore
 * import { exchangeCode } from "./github.ts";
 * import { resolveGitHubHost } from "./github_host.ts";
 * const host = resolveGitHubHost("github.com");
 * const tokens = await exchangeCode(host, {
 *   code: "from-the-callback", redirectUri: "http://127.0.0.1:8000/callback",
 *   codeVerifier: "the-verifier", clientId: "Iv1.abc", clientSecret: "secret",
 * });
 * ```
 */
export async function exchangeCode(
  host: GitHubHost,
  options: ExchangeCodeOptions,
): Promise<TokenSet> {
  const { status, text } = await postToTokenEndpoint(host, {
    client_id: options.clientId,
    code: options.code,
    redirect_uri: options.redirectUri,
    code_verifier: options.codeVerifier,
  }, options);
  return parseTokenResponse(status, text, host.key);
}

/** POSTs a form (plus the client secret, when given) to the token endpoint, asking for JSON. */
async function postToTokenEndpoint(
  host: GitHubHost,
  params: Record<string, string>,
  options: { clientSecret?: string; signal?: AbortSignal; timeout?: number },
): Promise<{ status: number; text: string }> {
  const body = new URLSearchParams(params);
  if (options.clientSecret) body.set("client_secret", options.clientSecret);
  const response = await fetchBounded(host.tokenEndpoint, {
    method: "POST",
    headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    body,
  }, {
    signal: options.signal,
    timeout: options.timeout,
    what: `the token endpoint of ${host.key}`,
  });
  return { status: response.status, text: await response.text() };
}

/** Options of {@linkcode refreshTokens}. */
export interface RefreshTokensOptions {
  /** The refresh token to spend. */
  refreshToken: string;
  /** OAuth App or GitHub App client id. */
  clientId: string;
  /** Client secret (GitHub requires it to refresh). */
  clientSecret?: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/**
 * Spends a refresh token (`grant_type=refresh_token`) for a new token pair.
 * GitHub rotates both tokens: the old refresh token stops working, so store
 * the answer before using it. `bad_refresh_token` (revoked, expired or
 * already spent) is a `session_expired` error.
 *
 * Written by hand for the same reason as {@linkcode exchangeCode}.
 *
 * @example
 * ```ts ignore
 * import { refreshTokens } from "./github.ts";
 * import { resolveGitHubHost } from "./github_host.ts";
 * const tokens = await refreshTokens(resolveGitHubHost("github.com"), {
 *   refreshToken: "ghr_…", clientId: "Iv1.abc", clientSecret: "secret",
 * });
 * ```
 */
export async function refreshTokens(
  host: GitHubHost,
  options: RefreshTokensOptions,
): Promise<TokenSet> {
  const { status, text } = await postToTokenEndpoint(host, {
    client_id: options.clientId,
    grant_type: "refresh_token",
    refresh_token: options.refreshToken,
  }, options);
  let error: unknown;
  try {
    error = JSON.parse(text)?.error;
  } catch { /* parseTokenResponse reports it */ }
  if (error === "bad_refresh_token") throw sessionExpired(host.key, { status, oauthError: error });
  return parseTokenResponse(status, text, host.key);
}

/**
 * Reads a token endpoint answer: GitHub's 200-with-error JSON, standard
 * OAuth errors, comma- or space-separated scopes, and expiry times.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTokenResponse } from "./github.ts";
 * const tokens = parseTokenResponse(200, '{"access_token":"gho_x","token_type":"bearer","scope":"repo,gist"}', "github.com");
 * assert.deepEqual(tokens.scopes, ["repo", "gist"]);
 * ```
 */
export function parseTokenResponse(status: number, text: string, hostKey: string): TokenSet {
  let data: Record<string, unknown>;
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new TypeError();
    }
    data = parsed;
  } catch {
    // Without its SyntaxError as cause: that quotes the answer, which may hold a token.
    throw new LoopauthError(
      "network",
      `The token endpoint of ${hostKey} answered HTTP ${status} without JSON: check --hostname`,
      { status },
    );
  }
  if (typeof data.error === "string") {
    const known = TOKEN_ERRORS[data.error];
    const description = typeof data.error_description === "string"
      ? `: ${terminalSafe(data.error_description)}`
      : "";
    throw new LoopauthError(
      TOKEN_ERROR_CODES[data.error] ?? "oauth",
      known ??
        `The token endpoint of ${hostKey} refused the request (${
          terminalSafe(data.error, { max: 60 })
        })${description}`,
      { status, oauthError: data.error },
    );
  }
  if (status !== 200 || typeof data.access_token !== "string" || data.access_token === "") {
    throw new LoopauthError(
      "oauth",
      `The token endpoint of ${hostKey} answered HTTP ${status} without an access token`,
      { status },
    );
  }
  if (!isBearerToken(data.access_token)) {
    throw new LoopauthError(
      "oauth",
      `The access token from ${hostKey} ${NOT_A_BEARER_TOKEN}: nothing was stored`,
      { status, reason: "token_invalid" },
    );
  }
  const now = Date.now();
  const at = (value: unknown) => {
    // A number in JSON; a numeric string in a form-encoded answer.
    const seconds = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    return typeof seconds === "number" && seconds > 0
      ? new Date(now + seconds * 1000).toISOString()
      : undefined;
  };
  const tokens: TokenSet = {
    accessToken: data.access_token,
    tokenType: typeof data.token_type === "string" ? data.token_type.toLowerCase() : "bearer",
    scopes: typeof data.scope === "string" ? data.scope.split(/[\s,]+/).filter(Boolean) : [],
  };
  const expiresAt = at(data.expires_in);
  if (expiresAt) tokens.expiresAt = expiresAt;
  if (typeof data.refresh_token === "string" && data.refresh_token) {
    tokens.refreshToken = data.refresh_token;
  }
  const refreshTokenExpiresAt = at(data.refresh_token_expires_in);
  if (refreshTokenExpiresAt) tokens.refreshTokenExpiresAt = refreshTokenExpiresAt;
  return tokens;
}

/** Options of {@linkcode requestDeviceCode}. */
export interface RequestDeviceCodeOptions {
  /** OAuth App or GitHub App client id (no secret needed). */
  clientId: string;
  /** Scopes to ask for. */
  scopes?: string[];
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/**
 * Asks `ORIGIN/login/device/code` for a device code. A host or app without
 * the device flow gives a `LoopauthError` with `cause: "device_unavailable"`,
 * so callers can fall back to the browser flow.
 *
 * @example
 * ```ts ignore
 * import { requestDeviceCode } from "./github.ts";
 * import { resolveGitHubHost } from "./github_host.ts";
 * const code = await requestDeviceCode(resolveGitHubHost(), { clientId: "Iv1.abc" });
 * console.error(`Enter ${code.userCode} at ${code.verificationUri}`);
 * ```
 */
export async function requestDeviceCode(
  host: GitHubHost,
  options: RequestDeviceCodeOptions,
): Promise<DeviceCode> {
  const body = new URLSearchParams({ client_id: options.clientId });
  if (options.scopes?.length) body.set("scope", options.scopes.join(" "));
  const what = `the device code endpoint of ${host.key}`;
  const response = await fetchBounded(`${host.origin}/login/device/code`, {
    method: "POST",
    headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    body,
  }, { signal: options.signal, what });
  const text = await response.text();
  const data = parseJsonObject(text) ?? {};
  const error = typeof data.error === "string" ? data.error : undefined;
  // GitHub: device_flow_disabled (HTTP 400); GHES without it: unauthorized_client or 404.
  if (
    error === "device_flow_disabled" || error === "unauthorized_client" ||
    (error === undefined && (response.status === 404 || response.status === 422))
  ) {
    throw new LoopauthError(
      "oauth",
      error === "device_flow_disabled"
        ? TOKEN_ERRORS.device_flow_disabled
        : `${host.key} does not offer the device flow for this app: log in with --web`,
      { reason: "device_unavailable", status: response.status, oauthError: error },
    );
  }
  // No secret was sent: only the client id can be wrong.
  if (error === "incorrect_client_credentials" || error === "invalid_client") {
    throw new LoopauthError(
      "oauth",
      `${host.key} does not know the client id ${
        terminalSafe(options.clientId, { max: 80 })
      }: check --client-id`,
      { status: response.status, oauthError: error, reason: "client_unknown" },
    );
  }
  if (error !== undefined) parseTokenResponse(response.status, text, host.key); // throws its message
  const { device_code, user_code, verification_uri, verification_uri_complete } = data;
  const expiresIn = Number(data.expires_in);
  const interval = data.interval === undefined ? 5 : Number(data.interval);
  if (
    typeof device_code !== "string" || !device_code || typeof user_code !== "string" ||
    typeof verification_uri !== "string" || !/^https?:\/\//.test(verification_uri) ||
    !(expiresIn > 0) || !(interval >= 0)
  ) {
    throw new LoopauthError(
      "network",
      `${what} answered HTTP ${response.status} without a device code: check --hostname`,
      { status: response.status },
    );
  }
  const code: DeviceCode = {
    deviceCode: device_code,
    userCode: terminalSafe(user_code, { max: 40 }),
    // Through URL: control characters from the server come out percent-encoded.
    verificationUri: new URL(verification_uri).href,
    expiresIn,
    interval,
  };
  if (
    typeof verification_uri_complete === "string" && /^https?:\/\//.test(verification_uri_complete)
  ) {
    code.verificationUriComplete = new URL(verification_uri_complete).href;
  }
  return code;
}

/**
 * GitHub's device endpoints as a {@linkcode DeviceGrant} for `deviceFlow`.
 *
 * @example
 * ```ts ignore
 * import { gitHubDeviceGrant } from "./github.ts";
 * import { resolveGitHubHost } from "./github_host.ts";
 * const grant = gitHubDeviceGrant(resolveGitHubHost(), "Iv1.abc");
 * const code = await grant.request({ scopes: ["read:user"] });
 * ```
 */
export function gitHubDeviceGrant(host: GitHubHost, clientId: string): DeviceGrant {
  return {
    request: ({ scopes, signal }) => requestDeviceCode(host, { clientId, scopes, signal }),
    poll: (deviceCode, { signal }) => pollDeviceToken(host, { clientId, deviceCode, signal }),
  };
}

/**
 * Polls the token endpoint once with a device code (no client secret).
 * `authorization_pending` and `slow_down` are answers, not errors; every
 * other error throws like {@linkcode parseTokenResponse}.
 *
 * @example
 * ```ts ignore
 * import { pollDeviceToken } from "./github.ts";
 * import { resolveGitHubHost } from "./github_host.ts";
 * const poll = await pollDeviceToken(resolveGitHubHost(), { clientId: "Iv1.abc", deviceCode: "…" });
 * if (poll.status === "done") console.log(poll.tokens.scopes);
 * ```
 */
export async function pollDeviceToken(
  host: GitHubHost,
  options: { clientId: string; deviceCode: string; signal?: AbortSignal },
): Promise<DevicePoll> {
  const { status, text } = await postToTokenEndpoint(host, {
    client_id: options.clientId,
    device_code: options.deviceCode,
    grant_type: DEVICE_GRANT_TYPE,
  }, options);
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(text) ?? {};
  } catch { /* parseTokenResponse reports it */ }
  if (data.error === "authorization_pending") return { status: "pending" };
  if (data.error === "slow_down") {
    const interval = Number(data.interval);
    return interval > 0 ? { status: "slow_down", interval } : { status: "slow_down" };
  }
  return { status: "done", tokens: parseTokenResponse(status, text, host.key) };
}
