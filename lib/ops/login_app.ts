/**
 * Which app and scopes a login uses when the user names none: the host's
 * stored account's client id (and secret, when stored) and scopes, else
 * GitHub's defaults.
 * @module
 */
import { type AppOption, resolveApp } from "../core/app.ts";
import { LoopauthError } from "../core/errors.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import { storedApp } from "../store/accounts.ts";
import { configDir } from "../store/paths.ts";

/**
 * The scopes the CLI's GitHub or GHES login asks for when neither `--scopes`
 * nor a stored account says otherwise: gh's (`gh auth login`), so a private
 * repository can be cloned after `setup-git`. Issuers get none by default,
 * and so does a library caller that passes no `defaultScopes`.
 */
export const GITHUB_DEFAULT_SCOPES: readonly string[] = ["repo", "read:org", "gist"];

/** What a login was given (each may be missing). */
export interface LoginAppOptions extends AppOption {
  /** `--hostname` (GitHub, GHES or a loopback origin). */
  hostname?: string;
  /** `--issuer`, instead of a GitHub host. */
  issuer?: string;
  /** The host's key when the caller resolved it already (then `hostname` and `issuer` are not read). */
  hostKey?: string;
  /** The client id given, if any. */
  clientId?: string;
  /**
   * The stored account whose app and scopes fill in what was not given
   * (default, or when the host has no such account: the host's active one).
   */
  user?: string;
  /** The client secret given, if any. */
  clientSecret?: string;
  /** The scopes given, if any. */
  scopes?: string[] | string;
  /** The scopes when neither `scopes` nor a stored account gives any (default: none). */
  defaultScopes?: readonly string[];
  /** The config directory (default: loopauth's). */
  configDir?: string;
  /** Whether to look at stored accounts at all (a login that stores nothing does not). */
  stored?: boolean;
}

/** The app and scopes a login uses. */
export interface LoginApp {
  clientId: string;
  clientSecret?: string;
  scopes?: string[] | string;
}

/**
 * Fills in what the user did not give: the client id (and, for the same
 * app, the secret) and the scopes of the host's account `user` names (the
 * CLI: `LOOPAUTH_USER`), else of its active account, else
 * `defaultScopes`. No client id at all is a `usage` error that says where
 * to get one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GITHUB_DEFAULT_SCOPES, loginApp } from "./login_app.ts";
 * const app = await loginApp({
 *   clientId: "Iv1.abc",
 *   stored: false,
 *   defaultScopes: GITHUB_DEFAULT_SCOPES,
 * });
 * assert.deepEqual(app.scopes, ["repo", "read:org", "gist"]);
 * ```
 */
export async function loginApp(options: LoginAppOptions): Promise<LoginApp> {
  const key = options.hostKey ?? options.issuer ?? resolveGitHubHost(options.hostname).key;
  const known = (options.stored ?? true) && (!options.clientId || !options.clientSecret ||
      options.scopes === undefined)
    ? await knownApp(key, options)
    : undefined;
  const clientId = options.clientId || known?.clientId;
  if (!clientId) {
    throw new LoopauthError(
      "usage",
      "A client id is needed: pass --client-id or set LOOPAUTH_CLIENT_ID (register an app as docs/oauth_app.md says, or try loopauth with loopauth dev-server)",
    );
  }
  const clientSecret = options.clientSecret ||
    (known?.clientId === clientId ? known.clientSecret : undefined);
  const scopes = options.scopes ?? known?.scopes ??
    (options.defaultScopes ? [...options.defaultScopes] : undefined);
  return { clientId, ...(clientSecret ? { clientSecret } : {}), ...(scopes ? { scopes } : {}) };
}

/**
 * The app of the host's account `user` (else of its active account); none
 * when the config directory cannot even be named (the login says why later).
 */
async function knownApp(
  key: string,
  options: Pick<LoginAppOptions, "configDir" | "app" | "user">,
) {
  const app = resolveApp(options.app);
  let where = options.configDir;
  try {
    where ??= configDir({ app });
  } catch {
    return undefined;
  }
  const named = options.user === undefined
    ? undefined
    : await storedApp(key, options.user, { dir: where, app });
  return named ?? await storedApp(key, undefined, { dir: where, app });
}
