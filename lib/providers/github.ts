/**
 * GitHub and GitHub Enterprise Server: endpoints from a host name, the token
 * endpoint with its 200-with-error answers, and token revocation.
 * @module
 */
import { LoopauthError } from "../errors.ts";
import { fetchBounded } from "../http.ts";
import { terminalSafe } from "../text.ts";

/** Where one GitHub host keeps its OAuth endpoints and API. */
export interface GitHubHost {
  /** The name loopauth stores accounts under: `github.com`, `ghe.example.com`, or an `http://` loopback origin. */
  key: string;
  /** `https://github.com`, `https://ghe.example.com`, `http://127.0.0.1:8080`. */
  origin: string;
  /** `ORIGIN/login/oauth/authorize`. */
  authorizationEndpoint: string;
  /** `ORIGIN/login/oauth/access_token`. */
  tokenEndpoint: string;
  /** `https://api.github.com` for github.com, `ORIGIN/api/v3` for any other host. */
  apiUrl: string;
  /** Where a user reviews and revokes authorized apps. */
  settingsUrl: string;
}

/** Tokens from a token endpoint. */
export interface TokenSet {
  /** The access token. */
  accessToken: string;
  /** `bearer` for GitHub. */
  tokenType: string;
  /** Granted scopes (GitHub answers them comma-separated). */
  scopes: string[];
  /** ISO time the access token expires, when the server says. */
  expiresAt?: string;
  /** Refresh token of expiring tokens. */
  refreshToken?: string;
  /** ISO time the refresh token expires, when the server says. */
  refreshTokenExpiresAt?: string;
}

/**
 * Whether a host name is a loopback address literal (127.0.0.0/8 or ::1),
 * the only hosts `http://` is accepted for.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./github.ts";
 * isLoopbackHost("127.0.0.1"); // true
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  return /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === "[::1]";
}

/**
 * Resolves `--hostname` (a host name or an origin) to GitHub's endpoints:
 * github.com's own layout, or the GHES layout for any other host.
 *
 * @example
 * ```ts
 * import { resolveGitHubHost } from "./github.ts";
 * resolveGitHubHost("ghe.example.com").apiUrl; // "https://ghe.example.com/api/v3"
 * ```
 */
export function resolveGitHubHost(hostname = "github.com"): GitHubHost {
  const input = hostname.trim();
  let url: URL;
  try {
    url = new URL(input.includes("://") ? input : `https://${input}`);
  } catch {
    throw new LoopauthError(
      "usage",
      `Invalid host "${
        terminalSafe(input, { max: 80 })
      }": give a host name such as ghe.example.com`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new LoopauthError(
      "usage",
      `Invalid host "${terminalSafe(input, { max: 80 })}": use https://`,
    );
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new LoopauthError(
      "usage",
      `Refusing http:// for ${url.hostname}: only loopback addresses (127.0.0.1, [::1]) may use http://`,
    );
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
    throw new LoopauthError(
      "usage",
      `Invalid host "${
        terminalSafe(input, { max: 80 })
      }": give only a host name or origin, without a path`,
    );
  }
  const origin = url.origin;
  const key = url.protocol === "https:" ? url.host : origin;
  const apiUrl = key === "github.com" ? "https://api.github.com" : `${origin}/api/v3`;
  return {
    key,
    origin,
    authorizationEndpoint: `${origin}/login/oauth/authorize`,
    tokenEndpoint: `${origin}/login/oauth/access_token`,
    apiUrl,
    settingsUrl: `${origin}/settings/applications`,
  };
}

/** What GitHub's token endpoint error codes mean for the user. */
const TOKEN_ERRORS: Record<string, string> = {
  incorrect_client_credentials:
    "The client ID or client secret is wrong: check --client-id and --client-secret",
  redirect_uri_mismatch:
    "The redirect URI does not match the app's callback URL: register http://127.0.0.1/callback for the app",
  bad_verification_code:
    "The authorization code is invalid, expired or already used: run loopauth login again",
  unverified_user_email:
    "The account's primary email address is not verified: verify it, then log in again",
  bad_refresh_token: "The refresh token is invalid or expired: run loopauth login again",
  unsupported_grant_type: "The server does not support this grant type",
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
 * ```ts
 * import { exchangeCode, resolveGitHubHost } from "./github.ts";
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
 * ```ts
 * import { refreshTokens, resolveGitHubHost } from "./github.ts";
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
  if (error === "bad_refresh_token") throw sessionExpired(host.key);
  return parseTokenResponse(status, text, host.key);
}

/**
 * The error for a session that only a new login can restore.
 *
 * @example
 * ```ts
 * import { sessionExpired } from "./github.ts";
 * throw sessionExpired("github.com");
 * ```
 */
export function sessionExpired(hostKey: string): LoopauthError {
  return new LoopauthError(
    "session_expired",
    `Session for ${hostKey} expired: run loopauth login --hostname ${hostKey}`,
  );
}

/**
 * Reads a token endpoint answer: GitHub's 200-with-error JSON, standard
 * OAuth errors, comma- or space-separated scopes, and expiry times.
 *
 * @example
 * ```ts
 * import { parseTokenResponse } from "./github.ts";
 * const tokens = parseTokenResponse(200, '{"access_token":"gho_x","token_type":"bearer","scope":"repo,gist"}', "github.com");
 * tokens.scopes; // ["repo", "gist"]
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
    throw new LoopauthError(
      "network",
      `The token endpoint of ${hostKey} answered HTTP ${status} without JSON: check --hostname`,
    );
  }
  if (typeof data.error === "string") {
    const known = TOKEN_ERRORS[data.error];
    const description = typeof data.error_description === "string"
      ? `: ${terminalSafe(data.error_description)}`
      : "";
    throw new LoopauthError(
      "oauth",
      known ??
        `The token endpoint of ${hostKey} refused the request (${
          terminalSafe(data.error, { max: 60 })
        })${description}`,
    );
  }
  if (status !== 200 || typeof data.access_token !== "string" || data.access_token === "") {
    throw new LoopauthError(
      "oauth",
      `The token endpoint of ${hostKey} answered HTTP ${status} without an access token`,
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
