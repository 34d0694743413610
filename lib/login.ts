/**
 * `login`: the loopback flow against GitHub or GHES, then `GET /user`, then
 * the token is stored.
 * @module
 */
import { LoopauthError } from "./errors.ts";
import { loopbackFlow } from "./flows/loopback.ts";
import { exchangeCode, resolveGitHubHost, type TokenSet } from "./providers/github.ts";
import { whoami } from "./github_api.ts";
import { saveAccount } from "./store/accounts.ts";
import { chooseBackend, type StorageName } from "./store/backend.ts";
import { configDir } from "./store/paths.ts";
import { openBrowser } from "./browser.ts";

/** Options of {@linkcode login}. */
export interface LoginOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** The OAuth App or GitHub App client id. */
  clientId: string;
  /** The app's client secret (GitHub requires it for the web flow). */
  clientSecret?: string;
  /** Scopes, as a list or a comma/space-separated string. */
  scopes?: string[] | string;
  /** Fixed callback port (default: a free port from the OS). */
  port?: number;
  /** Milliseconds to wait for the browser (default 5 minutes). */
  timeout?: number;
  /** Aborting stops the login, frees the port and stores nothing. */
  signal?: AbortSignal;
  /**
   * How to show the URL to the user: `true` (default) opens the system
   * browser, `false` opens nothing, a function is called with the URL.
   */
  openBrowser?: boolean | ((url: string) => unknown);
  /** Called with the authorization URL as soon as it is known (print it here). */
  onAuthorizationUrl?: (url: string) => void;
  /** Where to store the account (default: the user's config directory). */
  configDir?: string;
  /** Store the token (default true). */
  store?: boolean;
  /**
   * Where to keep the secrets: `keyring` (an error if none works), `file`,
   * or (default) the keyring when one answers, else the file.
   */
  storage?: StorageName;
}

/** The result of a successful login. */
export interface LoginResult extends TokenSet {
  /** The host key the account is stored under. */
  host: string;
  /** The user's login name. */
  login: string;
  /** Where the token was stored: the keyring's name or the file's path. */
  storedIn?: string;
  /** `keyring` or `file`, when the token was stored. */
  storage?: StorageName;
  /** Why the keyring was not used, when the file was picked automatically. */
  keyringUnavailable?: string;
}

/**
 * Splits a scope list given as `"read:user repo"` or `"read:user,repo"`.
 *
 * @example
 * ```ts
 * import { parseScopes } from "./login.ts";
 * parseScopes("read:user,repo gist"); // ["read:user", "repo", "gist"]
 * ```
 */
export function parseScopes(scopes: string[] | string | undefined): string[] {
  const list = typeof scopes === "string" ? [scopes] : scopes ?? [];
  return [...new Set(list.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean))];
}

/**
 * Logs a user in through the browser with the loopback flow and stores the
 * token.
 *
 * @example
 * ```ts
 * import { login } from "./login.ts";
 * const result = await login({
 *   clientId: "Iv1.abc", clientSecret: "…", scopes: "read:user",
 *   onAuthorizationUrl: (url) => console.error(url),
 * });
 * console.log(`Logged in to ${result.host} as ${result.login}`);
 * ```
 */
export async function login(options: LoginOptions): Promise<LoginResult> {
  if (!options.clientId) {
    throw new LoopauthError(
      "usage",
      "A client id is needed: pass --client-id or set LOOPAUTH_CLIENT_ID",
    );
  }
  const host = resolveGitHubHost(options.hostname);
  const open = options.openBrowser ?? true;
  const dir = options.configDir ?? configDir();
  // Chosen before the browser opens, so a missing keyring costs the user nothing.
  const chosen = (options.store ?? true)
    ? await chooseBackend(options.storage, { dir })
    : undefined;
  return await loopbackFlow<LoginResult>({
    authorizationEndpoint: host.authorizationEndpoint,
    clientId: options.clientId,
    scopes: parseScopes(options.scopes),
    port: options.port,
    timeout: options.timeout,
    signal: options.signal,
    onAuthorizationUrl: async (url) => {
      options.onAuthorizationUrl?.(url);
      if (typeof open === "function") await open(url);
      else if (open) await openBrowser(url);
    },
    complete: async ({ code, redirectUri, codeVerifier }) => {
      const token = await exchangeCode(host, {
        code,
        redirectUri,
        codeVerifier,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        signal: options.signal,
      });
      const name = await whoami(host.apiUrl, token.accessToken, { signal: options.signal });
      const result: LoginResult = { ...token, host: host.key, login: name };
      if (chosen) {
        const { backend, fallbackReason } = chosen;
        await saveAccount(
          {
            host: host.key,
            login: name,
            clientId: options.clientId,
            ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
            token,
            createdAt: new Date().toISOString(),
            storage: backend.name,
          },
          backend,
          { dir },
        );
        result.storedIn = backend.location;
        result.storage = backend.name;
        if (fallbackReason) result.keyringUnavailable = fallbackReason;
      }
      return result;
    },
    successPage: (result) => ({
      title: `Logged in to ${result.host} as ${result.login}`,
      message: "You can close this tab and return to the terminal.",
    }),
  });
}
