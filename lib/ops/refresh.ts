/**
 * Refresh of expiring tokens: when the access token has expired or expires
 * within a minute, spend the refresh token once (under the config
 * directory's lock) and store the new pair before anyone uses it.
 * @module
 */
import { loginCommand, LoopauthError, sessionExpired } from "../core/errors.ts";
import { type HostRef, providerFor } from "../providers/registry.ts";
import { openStore } from "../store/secret_store.ts";
import {
  type AccountStoreOptions,
  findAccount,
  refreshedAccount,
  saveAccount,
  type StoredAccount,
} from "../store/accounts.ts";
import { withLock } from "../store/lock.ts";
import { isPast, needsRefresh } from "../core/expiry.ts";

/**
 * The account with a usable access token: as it is, or renewed (its
 * refresh token spent, the new pair stored) when it expires within a
 * minute. Two processes at once spend the
 * refresh token once: the second one waits for the lock and takes the
 * first one's result. A refused or expired refresh token is a
 * `session_expired` error. With `force`, a token that has a refresh token is
 * refreshed whatever its expiry time says (the server answered 401).
 *
 * @example
 * ```ts ignore
 * import { renewAccount } from "./refresh.ts";
 * import { findAccount } from "../store/accounts.ts";
 * import { resolveGitHubHost } from "../providers/github_host.ts";
 * const host = resolveGitHubHost("github.com");
 * const account = await findAccount(host.key, undefined, { dir: "/tmp/loopauth" });
 * if (account) console.log((await renewAccount(host, account, { dir: "/tmp/loopauth" })).token.accessToken);
 * ```
 */
export async function renewAccount(
  host: HostRef,
  account: StoredAccount,
  options: AccountStoreOptions & { signal?: AbortSignal; force?: boolean },
): Promise<StoredAccount> {
  // `force`: the server refused the token although its expiry time says it is valid.
  const force = options.force === true;
  if (!force && !needsRefresh(account.token.expiresAt)) return account;
  const expired = () => sessionExpired(host.key, { issuer: "issuer" in host });
  if (!account.token.refreshToken) {
    if (isPast(account.token.expiresAt)) throw expired();
    return account; // expires soon, but nothing can renew it
  }
  // Loaded only now: `token` with a valid token needs no provider.
  const provider = await providerFor(host, { signal: options.signal, allowNoPkceMetadata: true });
  return await withLock(options.dir, async () => {
    const current = await findAccount(host.key, account.login, options);
    if (!current) {
      throw new LoopauthError(
        "not_logged_in",
        `Not logged in to ${host.key} as ${account.login}: run ${
          loginCommand(host.key, { issuer: "issuer" in host })
        }`,
      );
    }
    // Another process refreshed while this one waited for the lock: use its result.
    if (
      current.token.accessToken !== account.token.accessToken && !isPast(current.token.expiresAt)
    ) {
      return current;
    }
    if (!force && !needsRefresh(current.token.expiresAt)) return current;
    const refreshToken = current.token.refreshToken;
    if (!refreshToken || isPast(current.token.refreshTokenExpiresAt)) {
      throw expired();
    }
    const client = {
      clientId: current.clientId,
      clientSecret: current.clientSecret,
      signal: options.signal,
    };
    const tokens = await provider.refresh(refreshToken, client);
    const next = refreshedAccount(current, refreshToken, tokens);
    // Persist the rotated pair before anyone uses it: the old refresh token is spent.
    await saveAccount(next, openStore(current.storage, options), {
      ...options,
      activate: false,
    });
    return next;
  }, { signal: options.signal });
}
