/**
 * `logout`: revoke the token on the server, then forget it locally.
 * @module
 */
import { LoopauthError } from "./errors.ts";
import { revokeToken } from "./github_api.ts";
import { resolveGitHubHost } from "./providers/github.ts";
import { removeAccount } from "./store/file.ts";
import { getAccount } from "./token.ts";

/** Options of {@linkcode logout}. */
export interface LogoutOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
  /** Client secret to revoke with, when the login stored none. */
  clientSecret?: string;
  /** Aborting cancels the revocation request; the local token is still removed. */
  signal?: AbortSignal;
}

/** The result of a logout. */
export interface LogoutResult {
  /** The host key. */
  host: string;
  /** The login name that was logged out. */
  login: string;
}

/**
 * Revokes the stored token of a host on the server and removes it locally.
 * If revocation fails the local token is still removed and a
 * `revoke_failed` error says where to revoke it by hand.
 *
 * @example
 * ```ts
 * import { logout } from "./logout.ts";
 * const { host, login } = await logout({ hostname: "github.com" });
 * ```
 */
export async function logout(options: LogoutOptions = {}): Promise<LogoutResult> {
  const host = resolveGitHubHost(options.hostname);
  const account = await getAccount(options);
  let failure: LoopauthError | undefined;
  try {
    await revokeToken(host.apiUrl, account.token.accessToken, {
      clientId: account.clientId,
      clientSecret: options.clientSecret ?? account.clientSecret,
      signal: options.signal,
    });
  } catch (error) {
    failure = error instanceof LoopauthError
      ? error
      : new LoopauthError("revoke_failed", String(error));
  }
  await removeAccount(host.key, { dir: options.configDir });
  if (failure) {
    const reason = failure.message.replace(/^./, (c) => c.toLowerCase());
    throw new LoopauthError(
      "revoke_failed",
      `Removed the local token for ${host.key}, but could not revoke it on the server (${reason}): it may still be valid, revoke it at ${host.settingsUrl}`,
      { cause: failure },
    );
  }
  return { host: host.key, login: account.login };
}
