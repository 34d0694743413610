/**
 * The built-in provider's public types: its options, its user, what it
 * recorded, and the running provider.
 * @module
 */

/** The user the provider logs in. */
export interface DevUser {
  /** Login name. */
  login: string;
  /** Numeric id. */
  id: number;
  /** Display name. */
  name: string;
}

/** Options of `startDevProvider` (dev/provider.ts). */
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
  /**
   * The scopes every token gets, whatever a client asks for (default: the
   * requested ones), to test how a client takes fewer scopes than it wanted.
   */
  scopesGranted?: string[];
  /**
   * Serve https with a certificate made at start by `openssl` (which must be
   * on PATH), signed by a CA of its own that may vouch only for 127.0.0.1
   * and localhost; the CA's file is {@linkcode DevProvider.caFile}.
   */
  tls?: boolean;
  /**
   * Routes of your app's own API, added to the REST API under `/api/v3`:
   * keys `"METHOD /path"` (`"GET /user/starred"`, `"PUT /user/starred/:owner/:repo"`).
   * A route runs only for a request with a live token (else GitHub's 401),
   * after the Host check; it returns a `Response`, or data sent as JSON
   * (200; `undefined` is 204) with GitHub's scope headers. OAuth stays the
   * provider's own.
   */
  routes?: Record<string, DevRoute>;
  /**
   * The directory in which the provider makes its own temporary directory
   * (the TLS files, the demo git repository), removed on close; default the
   * system's temporary directory. Nothing is written until needed.
   */
  dir?: string;
}

/** What a route of {@linkcode DevProviderOptions.routes} is given. */
export interface DevRouteContext {
  /** The request (its body already read: see `body`). */
  request: Request;
  /** The body as text. */
  body: string;
  /** The values of the route's `:name` segments. */
  params: Record<string, string>;
  /** The query. */
  query: URLSearchParams;
  /** The user the request's token belongs to. */
  user: DevUser;
  /** The token's scopes. */
  scopes: string[];
}

/** A route of your app's API on the built-in provider (see {@linkcode DevProviderOptions.routes}). */
export type DevRoute = (context: DevRouteContext) => unknown;

/** The demo repository of a running provider. */
export interface DevRepository {
  /** `OWNER/NAME`, e.g. `octocat/hello-world`. */
  fullName: string;
  /** The URL to clone: `ORIGIN/OWNER/NAME.git`. */
  cloneUrl: string;
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
  /** The body as text, its first 64 KiB (empty for git's binary bodies and for one over 1 MiB). */
  body: string;
  /** When it arrived (`performance.now()`). */
  time: number;
}

/** A running provider. */
export interface DevProvider {
  /** `http://127.0.0.1:PORT` (`https://` with `tls`): pass it as `--hostname`. */
  origin: string;
  /** The REST API's base URL, `ORIGIN/api/v3` (as on GitHub Enterprise Server). */
  apiUrl: string;
  /** The GraphQL endpoint, `ORIGIN/api/graphql`. */
  graphqlUrl: string;
  /** The PEM file of the CA that signed the TLS certificate (with `tls`). */
  caFile?: string;
  /**
   * The demo repository (private: clone it with a token that has the `repo`
   * scope), served over git's smart HTTP through `git http-backend`.
   */
  repository: DevRepository;
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
  /** The scopes every new token gets, when set (may be changed while running). */
  scopesGranted?: string[];
  /** The last 1,000 requests received, in order (not those refused for their `Host`). */
  requests: RecordedRequest[];
  /** Access tokens currently valid (not revoked, not expired). */
  activeTokens(): string[];
  /** Refresh tokens currently valid (not spent, not revoked, not expired). */
  activeRefreshTokens(): string[];
  /** Stops the provider. */
  close(): Promise<void>;
}
