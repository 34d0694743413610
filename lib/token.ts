/**
 * `getToken`: the stored token of a host.
 * @module
 */
import { LoopauthError } from "./errors.ts";
import { resolveGitHubHost } from "./providers/github.ts";
import { readAccount, type StoredAccount } from "./store/file.ts";

/** Options of {@linkcode getToken} and {@linkcode getAccount}. */
export interface GetTokenOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
}

/**
 * The stored account of a host; a `not_logged_in` error when there is none.
 *
 * @example
 * ```ts
 * import { getAccount } from "./token.ts";
 * const account = await getAccount({ hostname: "github.com" });
 * console.log(account.login, account.token.scopes);
 * ```
 */
export async function getAccount(options: GetTokenOptions = {}): Promise<StoredAccount> {
  const host = resolveGitHubHost(options.hostname);
  const account = await readAccount(host.key, { dir: options.configDir });
  if (!account) {
    const flag = host.key === "github.com" ? "" : ` --hostname ${host.key}`;
    throw new LoopauthError(
      "not_logged_in",
      `Not logged in to ${host.key}: run loopauth login${flag}`,
    );
  }
  return account;
}

/**
 * The stored access token of a host.
 *
 * @example
 * ```ts
 * import { getToken } from "./token.ts";
 * const token = await getToken({ hostname: "github.com" });
 * ```
 */
export async function getToken(options: GetTokenOptions = {}): Promise<string> {
  return (await getAccount(options)).token.accessToken;
}
