/**
 * A stored resource account (`login --resource`, `mcp-proxy`): its token,
 * refreshed under the config directory's lock at the authorization server
 * it was issued by (never another), and its logout.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { resolveApp } from "../core/app.ts";
import type { AppRef } from "../core/app.ts";
import { terminalSafe } from "../core/text.ts";
import { isPast, needsRefresh } from "../core/expiry.ts";
import {
  findResourceAccount,
  refreshedAccount,
  removeResourceAccount,
  saveResourceAccount,
  type StoredAccount,
} from "../store/accounts.ts";
import { openStore } from "../store/secret_store.ts";
import { registrationsOf, removeRegistration } from "../store/registrations.ts";
import { withLock } from "../store/lock.ts";
import { configDir } from "../store/paths.ts";
import { canonicalResource } from "../providers/resource_url.ts";
import {
  type AuthorizationServer,
  rediscoverAuthorizationServer,
} from "../providers/authorization_server.ts";
import type { ClientAuthMethod } from "../providers/resource_client.ts";
import { resourceProvider } from "../providers/resource_provider.ts";
import type { Provider } from "../providers/provider.ts";

/** Options of the resource account operations. */
export interface ResourceAccountOptions {
  /** The config directory (default: the app's). */
  configDir?: string;
  /** The app whose store this is (default loopauth). */
  app?: AppRef;
  /** Refresh even if the expiry time says the token is valid (the resource answered 401). */
  force?: boolean;
  /** Send no RFC 8707 `resource` on the refresh (for servers that reject it). */
  omitResourceParameter?: boolean;
  /** Aborting cancels the refresh. */
  signal?: AbortSignal;
}

/**
 * The stored account of `resource` with a usable access token: as stored,
 * or refreshed (and stored) when it expires within a minute or `force` is
 * given. Two processes spend a refresh token once (the second one takes the
 * first one's result under the lock). None stored is `not_logged_in`; a
 * refused refresh token `session_expired`, both naming `login --resource`.
 *
 * @example
 * ```ts ignore
 * import { resourceToken } from "./resource_account.ts";
 * const account = await resourceToken("https://mcp.example.com/mcp");
 * console.log(account.token.expiresAt);
 * ```
 */
export async function resourceToken(
  resource: string,
  options: ResourceAccountOptions = {},
): Promise<StoredAccount> {
  const key = canonicalResource(resource);
  const app = resolveApp(options.app);
  const dir = options.configDir ?? configDir({ app });
  const where = { dir, app };
  const account = await findResourceAccount(key, where);
  if (!account) throw notLoggedIn(key);
  if (!options.force && !needsRefresh(account.token.expiresAt)) return account;
  if (!account.token.refreshToken) {
    if (isPast(account.token.expiresAt) || options.force) throw expired(key);
    return account; // expires soon, but nothing can renew it
  }
  const { provider } = await providerOf(account, options);
  return await withLock(dir, async () => {
    const current = await findResourceAccount(key, where);
    if (!current) throw notLoggedIn(key);
    // Another process refreshed while this one waited for the lock: use its result.
    if (
      current.token.accessToken !== account.token.accessToken && !isPast(current.token.expiresAt)
    ) {
      return current;
    }
    const refreshToken = current.token.refreshToken;
    if (!refreshToken || isPast(current.token.refreshTokenExpiresAt)) throw expired(key);
    const tokens = await provider.refresh(refreshToken, {
      clientId: current.clientId,
      clientSecret: current.clientSecret,
      signal: options.signal,
    }).catch(async (error) => {
      // Refused (a spent refresh token, a client the server no longer takes): the login to run.
      if (error instanceof LoopauthError && error.code === "session_expired") {
        // A client refused is forgotten (only if it is still the one stored): that login
        // registers anew rather than spend the user's consent on it.
        const cause = error.cause;
        if (
          cause instanceof LoopauthError && cause.oauthError === "invalid_client" &&
          current.authorizationServer
        ) {
          for (
            const name of registrationsOf(current.authorizationServer, current.clientId, where)
          ) {
            await removeRegistration(name, { ...where, clientId: current.clientId })
              .catch(() => false);
          }
        }
        throw expired(key, error);
      }
      throw error;
    });
    const next = refreshedAccount(current, refreshToken, tokens);
    // Stored before anyone uses it: the old refresh token is spent.
    await saveResourceAccount(next, openStore(current.storage, where), where);
    return next;
  });
}

/**
 * Logs out of a resource: revokes its tokens where its authorization server
 * offers revocation (RFC 7009), then forgets the account and the client
 * registered for it (its secret included): the resource's canonical URL,
 * whether one was stored, and whether it was revoked. A failed revocation
 * still forgets it; its error is the `refusal`, with the `authorizationServer`
 * where it may be revoked by hand (`logoutResource` and `logoutAll` in
 * ops/logout.ts report it).
 *
 * @example
 * ```ts ignore
 * import { resourceLogout } from "./resource_account.ts";
 * await resourceLogout("https://mcp.example.com/mcp");
 * ```
 */
export async function resourceLogout(
  resource: string,
  options: ResourceAccountOptions = {},
): Promise<{
  resource: string;
  removed: boolean;
  revoked: boolean;
  refusal?: unknown;
  authorizationServer?: string;
}> {
  const key = canonicalResource(resource);
  const app = resolveApp(options.app);
  const where = { dir: options.configDir ?? configDir({ app }), app };
  const account = await findResourceAccount(key, where).catch(() => undefined);
  let failure: unknown;
  let revoked = false;
  if (account) {
    try {
      const { provider, server } = await providerOf(account, options);
      revoked = server.revocationEndpoint !== undefined;
      await provider.revoke(account.token, {
        clientId: account.clientId,
        clientSecret: account.clientSecret,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof LoopauthError && error.code === "cancelled") throw error;
      failure = error;
      revoked = false;
    }
  }
  const removed = await removeResourceAccount(key, where);
  // The client the login registered goes too (a confidential one's secret with it).
  if (account?.authorizationServer) {
    for (const name of registrationsOf(account.authorizationServer, account.clientId, where)) {
      await removeRegistration(name, where);
    }
  }
  return {
    resource: key,
    removed,
    revoked,
    ...(failure === undefined ? {} : { refusal: failure }),
    ...(account?.authorizationServer ? { authorizationServer: account.authorizationServer } : {}),
  };
}

/**
 * The provider of a stored account: the authorization server it was issued
 * by, discovered again from that issuer (a server whose metadata names
 * another issuer is refused by discovery), with the stored client.
 */
async function providerOf(
  account: StoredAccount,
  options: ResourceAccountOptions,
): Promise<{ provider: Provider; server: AuthorizationServer }> {
  const server = await rediscoverAuthorizationServer(account.authorizationServer!, account.host, {
    signal: options.signal,
  });
  const authMethod = (["client_secret_basic", "client_secret_post"].includes(
      account.authMethod ?? "",
    )
    ? account.authMethod
    : "none") as ClientAuthMethod;
  const provider = resourceProvider({
    resource: account.host,
    ...(options.omitResourceParameter ? {} : { resourceParam: account.host }),
    server,
    client: {
      clientId: account.clientId,
      ...(account.clientSecret ? { clientSecret: account.clientSecret } : {}),
      authMethod,
      source: "given",
    },
  });
  return { provider, server };
}

function notLoggedIn(resource: string): LoopauthError {
  const shown = terminalSafe(resource, { max: 120 });
  return new LoopauthError(
    "not_logged_in",
    `Not logged in to ${shown}: run loopauth login --resource ${shown}`,
  );
}

function expired(resource: string, cause?: unknown): LoopauthError {
  const shown = terminalSafe(resource, { max: 120 });
  return new LoopauthError(
    "session_expired",
    `Session for ${shown} expired: run loopauth login --resource ${shown}`,
    cause === undefined ? {} : { cause },
  );
}
