/**
 * How the built-in provider makes tokens: `gho_` tokens, or in expiring
 * mode `ghu_` access tokens with single-use `ghr_` refresh tokens, and the
 * token endpoint's answer for them.
 * @module
 */
import { randomToken } from "./responses.ts";
import type { DevState, DevUser, IssuedToken } from "./state.ts";

/**
 * A new token (pair, in expiring mode) for `user`, as the token endpoint
 * answers it. The provider's `scopesGranted`, when set, replaces the scopes
 * asked for.
 */
export function issueToken(
  state: DevState,
  grant: { scopes: string[]; user: DevUser },
): Record<string, string | number> {
  const user = grant.user;
  const scopes = state.provider.scopesGranted ?? grant.scopes;
  const expiring = state.provider.expiringTokens;
  const now = Date.now();
  const issued: IssuedToken = {
    id: ++state.lastId,
    clientId: state.provider.clientId,
    scopes,
    user,
    created: now,
  };
  if (!expiring) {
    const token = randomToken("gho_", 36);
    state.tokens.set(token, issued);
    return { access_token: token, token_type: "bearer", scope: scopes.join(",") };
  }
  const token = randomToken("ghu_", 36);
  const refreshToken = randomToken("ghr_", 76);
  state.tokens.set(token, { ...issued, expires: now + expiring.accessTtl * 1000, refreshToken });
  state.refreshTokens.set(refreshToken, {
    ...issued,
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
}

/**
 * Replaces an access token by a new one of the same kind, scopes and
 * lifetime (`PATCH /applications/{client_id}/token`); its refresh token, if
 * any, now belongs to the new one. Returns the new token.
 */
export function replaceToken(state: DevState, old: string): string {
  const issued = state.tokens.get(old);
  if (!issued) throw new Error("No such token to replace");
  const token = randomToken(old.slice(0, 4), 36);
  state.tokens.delete(old);
  state.tokens.set(token, { ...issued, id: ++state.lastId, created: Date.now() });
  const refresh = issued.refreshToken ? state.refreshTokens.get(issued.refreshToken) : undefined;
  if (refresh) refresh.accessToken = token;
  return token;
}

/** Revokes an access token and its refresh token. */
export function revokeToken(state: DevState, token: string): void {
  const issued = state.tokens.get(token);
  state.tokens.delete(token);
  if (issued?.refreshToken) state.refreshTokens.delete(issued.refreshToken);
}
