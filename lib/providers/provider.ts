/**
 * One interface for every provider loopauth logs in to, as Octokit's auth
 * strategies share one: GitHub and GitHub Enterprise Server
 * (`providers/github.ts`), and any OAuth 2.0 / OpenID Connect issuer
 * (`providers/oidc.ts`). Operations (login, refresh, logout, status, api)
 * use only this; none asks which kind it has. `providerFor`
 * (`providers/registry.ts`) loads an implementation only when it is used.
 * @module
 */
import type { AuthorizationResponse, DeviceGrant, TokenSet } from "../core/types.ts";

/** The app a request is made for. */
export interface ProviderClient {
  /** The client id. */
  clientId: string;
  /** The client secret, for a confidential client. */
  clientSecret?: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/** One authorization request of the loopback flow, and how to redeem its code. */
export interface Authorization {
  /** The authorization endpoint. */
  endpoint: string;
  /** The scopes asked for (also for the device flow). */
  scopes: string[];
  /** Extra authorization parameters of this attempt (an OpenID Connect `nonce`). */
  params: Record<string, string>;
  /** The `iss` the callback must carry (RFC 9207), when the server sends one. */
  expectedIss?: string;
  /** Redeems the code: the tokens and the user's name. */
  redeem(
    response: AuthorizationResponse,
    options?: { signal?: AbortSignal },
  ): Promise<{ token: TokenSet; name: string }>;
}

/** What the server says of a token (see `status`). */
export interface TokenCheck {
  /** `valid`, `invalid` (refused), `unreachable`, `unchecked` (nothing to ask), `error`. */
  state: "valid" | "invalid" | "unreachable" | "unchecked" | "error";
  /** The user's login, when the server named a valid one. */
  login?: string;
  /** The token's scopes, when the server listed them. */
  scopes?: string[];
  /** Why, for `unreachable`, `unchecked` and `error`. */
  detail?: string;
}

/** One API request (see `apiRequest`). */
export interface ApiCall extends Pick<ProviderClient, "signal"> {
  /** The HTTP method, upper case. */
  method: string;
  /** The query of a GET or HEAD, else the JSON body: data only, never request options. */
  fields: Record<string, string>;
  /** The API's base URL, for providers without a fixed API (an issuer's). */
  base?: string;
  /** The access token, asked for only once the request is known to be well formed. */
  token: () => Promise<string>;
}

/** A provider: what every operation needs of it. */
export interface Provider {
  /** The key accounts are stored under: a GitHub host or an issuer URL. */
  readonly key: string;
  /** The host's own web origins: a device page elsewhere gets a warning. */
  readonly origins: readonly string[];
  /** Where a user reviews and revokes the app's tokens by hand. */
  readonly settingsUrl: string;
  /** A new authorization request (fresh parameters each time). */
  authorize(client: ProviderClient, scopes: string[]): Promise<Authorization>;
  /** The device grant; `undefined` when the provider has none. */
  device(client: ProviderClient): Promise<DeviceGrant | undefined>;
  /** The user's login name for a token. */
  name(token: TokenSet, client: ProviderClient): Promise<string>;
  /** Spends a refresh token for a new pair; a refused one is `session_expired`. */
  refresh(refreshToken: string, client: ProviderClient): Promise<TokenSet>;
  /** Revokes a token set on the server; already gone counts as done. */
  revoke(token: TokenSet, client: ProviderClient): Promise<void>;
  /** Asks the server whether it accepts an access token. */
  check(accessToken: string, client: ProviderClient): Promise<TokenCheck>;
  /** Calls `path` on the provider's API with the token; the parsed answer. */
  request(path: string, call: ApiCall): Promise<unknown>;
  /** Work to start while the user is in the browser, for what comes after. */
  warmUp?(): void;
}

/** Options of `providerFor` (providers/registry.ts). */
export interface ProviderOptions {
  /** An issuer whose metadata lists no PKCE S256 is used anyway (with a warning). */
  allowNoPkceMetadata?: boolean;
  /** Called with one-line warnings (e.g. about an issuer's metadata). */
  onWarning?: (message: string) => void;
  /** Aborting cancels discovery. */
  signal?: AbortSignal;
}
