/**
 * `refresh --scopes`: a new login for a stored account that asks for more
 * (or fewer) scopes, like `gh auth refresh -s`, keeping the account, its
 * app and its storage.
 * @module
 */
import { asReason } from "../core/text.ts";
import { LoopauthError } from "../core/errors.ts";
import { providerFor } from "../providers/registry.ts";
import type { Provider } from "../providers/provider.ts";
import { inApp, resolveApp } from "../core/app.ts";
import { saveAccount } from "../store/accounts.ts";
import { openStore } from "../store/secret_store.ts";
import { configDir } from "../store/paths.ts";
import { type LoginOptions, type LoginResult, loginWith, parseScopes } from "./login.ts";
import { loginApp } from "./login_app.ts";
import { resolveHost, storedAccount } from "./token.ts";

/** Options of {@linkcode reauthorize}: those of a login, for a stored account. */
export interface ReauthorizeOptions
  extends Omit<LoginOptions, "clientId" | "scopes" | "store" | "storage" | "configDir"> {
  /** The account's login (default: the host's active account). */
  user?: string;
  /** The environment variable `user` came from, for the message when it names no account (see `getToken`). */
  userVariable?: string;
  /** Scopes to ask for besides the account's (a list, or comma/space-separated). */
  addScopes?: string[] | string;
  /** Scopes to drop from the account's. */
  removeScopes?: string[] | string;
  /** The client id, when the account has none (it came from `login --with-token`). */
  clientId?: string;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
}

/** The result of {@linkcode reauthorize}: the new login, as stored. */
export interface ReauthorizeResult extends LoginResult {
  /** The scopes that were asked for. */
  requestedScopes: string[];
  /** Whether the account's previous token was revoked on the server. */
  previousRevoked: boolean;
}

/**
 * Logs in again as a stored account (`user`, else the host's active one)
 * with its scopes plus `addScopes`, minus `removeScopes`, using its app,
 * and stores the new token in the same place (the active account stays as
 * it was). A login as another user stores nothing (`access_denied`). The
 * previous token is then revoked when it can be (best effort).
 *
 * @example
 * ```ts ignore
 * import { reauthorize } from "./reauthorize.ts";
 * const result = await reauthorize({ hostname: "github.com", addScopes: "repo", flow: "device" });
 * console.log(result.scopes);
 * ```
 */
export async function reauthorize(options: ReauthorizeOptions): Promise<ReauthorizeResult> {
  const app = resolveApp(options.app);
  const dir = options.configDir ?? configDir({ app });
  const host = await resolveHost({ ...options, configDir: dir });
  const account = await storedAccount(host, { ...options, configDir: dir });
  const remove = new Set(parseScopes(options.removeScopes));
  const scopes = [...new Set([...account.token.scopes, ...parseScopes(options.addScopes)])]
    .filter((scope) => !remove.has(scope));
  const clientId = options.clientId || account.clientId;
  const clientSecret = options.clientSecret ?? account.clientSecret;
  const issuer = "issuer" in host;
  // The host resolved above and one provider (made after the login's own checks) serve the
  // login and the revocations.
  let made: Promise<Provider> | undefined;
  const providerOnce = () =>
    made ??= providerFor(host, {
      signal: options.signal,
      allowNoPkceMetadata: options.allowNoPkceMetadata,
      onWarning: options.onWarning,
    });
  const asked: LoginOptions = {
    ...options,
    hostname: issuer ? undefined : host.key,
    issuer: issuer ? host.key : undefined,
    clientId,
    clientSecret,
    scopes,
    configDir: dir,
    store: false,
  };
  const result = await inApp(app, async () =>
    await loginWith(
      { ...asked, app, ...await loginApp({ ...asked, hostKey: host.key, stored: false }) },
      { issuer, provider: providerOnce },
    ));
  const provider = await providerOnce();
  if (result.login !== account.login) {
    // The other user's new token is not kept: revoke it (best effort).
    await provider.revoke(result, { clientId, clientSecret, signal: options.signal }).catch(
      () => {},
    );
    throw new LoopauthError(
      "access_denied",
      `Logged in as ${result.login}, not ${account.login}: nothing was changed; sign in as ${account.login} in the browser and run ${
        refreshCommand(host, options)
      }`,
    );
  }
  const {
    host: _h,
    login: _l,
    flow: _f,
    storedIn: _s,
    storage: _t,
    keyringUnavailable: _k,
    ...token
  } = result;
  const store = openStore(account.storage, { dir, app });
  await saveAccount(
    {
      ...account,
      clientId,
      ...(clientSecret ? { clientSecret } : {}),
      token,
      createdAt: new Date().toISOString(),
    },
    store,
    { dir, activate: false },
  );
  let previousRevoked = false;
  if (account.token.accessToken !== token.accessToken && account.clientId) {
    try {
      await provider.revoke(account.token, {
        clientId: account.clientId,
        clientSecret,
        signal: options.signal,
      });
      previousRevoked = true;
    } catch (error) {
      options.onWarning?.(
        `the previous token could not be revoked (${
          asReason(error)
        }): it may still be valid until it expires`,
      );
    }
  }
  return {
    ...result,
    storedIn: store.location,
    storage: store.name,
    requestedScopes: scopes,
    previousRevoked,
  };
}

/** The `loopauth refresh` that asks again for what this one asked: host, account and scopes. */
function refreshCommand(
  host: { key: string } | { key: string; issuer: true },
  options: Pick<ReauthorizeOptions, "user" | "addScopes" | "removeScopes">,
): string {
  const words = ["loopauth refresh"];
  if ("issuer" in host) words.push(`--issuer ${host.key}`);
  else if (host.key !== "github.com") words.push(`--hostname ${host.key}`);
  if (options.user !== undefined) words.push(`--user ${options.user}`);
  const add = parseScopes(options.addScopes);
  if (add.length) words.push(`--scopes ${add.join(",")}`);
  const remove = parseScopes(options.removeScopes);
  if (remove.length) words.push(`--remove-scopes ${remove.join(",")}`);
  return words.join(" ");
}
