/**
 * What the built-in provider keeps while it runs: pending consents, codes,
 * tokens and refresh tokens. Its endpoints share one {@linkcode DevState}.
 * @module
 */
import type { DevProvider, DevUser } from "./types.ts";

export type { DevUser } from "./types.ts";

/** An access token the provider issued. */
export interface IssuedToken {
  clientId: string;
  scopes: string[];
  user: DevUser;
  /** Epoch ms of expiry, in expiring mode. */
  expires?: number;
  /** The refresh token issued with this access token. */
  refreshToken?: string;
}

/** An authorization request waiting for consent, or approved into a code. */
export interface Grant {
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string | null;
}

/** The provider's state, shared by its endpoints. */
export interface DevState {
  /** The running provider (its settings may change while it runs). */
  provider: DevProvider;
  /** The registered callback URL. */
  registered: string;
  /** Consent pages shown, by request id. */
  pending: Map<string, Grant>;
  /** Codes issued and not yet redeemed. */
  codes: Map<string, Grant & { expires: number; user: DevUser }>;
  /** Access tokens issued. */
  tokens: Map<string, IssuedToken>;
  /** Refresh tokens issued and not yet spent. */
  refreshTokens: Map<string, IssuedToken & { accessToken: string }>;
  /** Whether a token is still within its lifetime. */
  live(token: IssuedToken): boolean;
}
