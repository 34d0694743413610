/**
 * What the built-in provider keeps while it runs: pending consents, codes,
 * tokens and refresh tokens. Its endpoints share one {@linkcode DevState}.
 * @module
 */
import type { DevProvider, DevUser } from "./types.ts";
import type { FormTokens } from "./form_tokens.ts";
import type { Workdir } from "./workdir.ts";

export type { DevUser } from "./types.ts";

/** An access token the provider issued. */
export interface IssuedToken {
  /** The authorization's number (GitHub's `id` of `POST /applications/{client_id}/token`). */
  id: number;
  clientId: string;
  scopes: string[];
  user: DevUser;
  /** Epoch ms of issue. */
  created: number;
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

/** The demo repository: who owns it and its name. */
export interface RepositoryName {
  owner: DevUser;
  name: string;
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
  /** The last authorization number given out. */
  lastId: number;
  /** The demo repository. */
  repository: RepositoryName;
  /** Where the provider keeps its files. */
  workdir: Workdir;
  /** The CSRF tokens of the forms it rendered (consent, device). */
  forms: FormTokens;
}

/**
 * Whether a token's scopes include `wanted` (GitHub's parent scopes count:
 * `repo` covers `public_repo`, `user` covers `user:email`, `admin:org` covers
 * `read:org`).
 *
 * @example
 * ```ts
 * import { hasScope, type IssuedToken } from "./state.ts";
 * const token = { scopes: ["user"] } as IssuedToken;
 * hasScope(token, "user:email"); // true
 * hasScope(token, "repo"); // false
 * ```
 */
export function hasScope(token: IssuedToken, wanted: string): boolean {
  const covering: Record<string, string[]> = {
    "read:user": ["user"],
    "user:email": ["user"],
    "user:follow": ["user"],
    public_repo: ["repo"],
    "repo:status": ["repo"],
    repo_deployment: ["repo"],
    "repo:invite": ["repo"],
    "read:org": ["write:org", "admin:org"],
    "write:org": ["admin:org"],
  };
  return token.scopes.includes(wanted) ||
    (covering[wanted] ?? []).some((parent) => token.scopes.includes(parent));
}
