/**
 * git's credential-helper protocol: key=value lines in, `username` and
 * `password` out for a host loopauth is logged in to.
 * @module
 */
import { resolveGitHubHost } from "../providers/github_host.ts";
import { renewAccount } from "./refresh.ts";
import { findAccount } from "../store/accounts.ts";
import { configDir } from "../store/paths.ts";

/** What git asks for (`protocol`, `host`, maybe `username`, `path`). */
export type CredentialRequest = Record<string, string>;

/** The answer for git. */
export interface GitCredential {
  /** The account's login. */
  username: string;
  /** Its access token (refreshed first when needed). */
  password: string;
  /** When the token expires, for git's `password_expiry_utc`. */
  expiresAt?: string;
  /**
   * A one-line note for the user (git shows a helper's stderr): the token
   * cannot reach private repositories, and the command that fixes it.
   */
  note?: string;
}

/**
 * Parses git's `key=value` lines (up to a blank line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCredentialRequest } from "./git_credential.ts";
 * assert.deepEqual(parseCredentialRequest("protocol=https\nhost=github.com\n\n"), {
 *   protocol: "https",
 *   host: "github.com",
 * });
 * ```
 */
export function parseCredentialRequest(text: string): CredentialRequest {
  const request: CredentialRequest = {};
  for (const line of text.split("\n")) {
    const clean = line.replace(/\r$/, "");
    if (clean === "") break;
    const at = clean.indexOf("=");
    if (at > 0) request[clean.slice(0, at)] = clean.slice(at + 1);
  }
  return request;
}

/**
 * The credential for git's request: the account of the host (git's
 * `username` when it names a stored account, else `user` when given, else
 * the active one), or `undefined` for a host loopauth is not logged in to.
 * A `user` (the CLI's `LOOPAUTH_USER`) that is not logged in to the host
 * gets `undefined`, never the active account: a process that chose its
 * account never pushes as another.
 *
 * @example
 * ```ts ignore
 * import { credentialFor } from "./git_credential.ts";
 * const credential = await credentialFor({ protocol: "https", host: "github.com" });
 * ```
 */
export async function credentialFor(
  request: CredentialRequest,
  options: { configDir?: string; signal?: AbortSignal; user?: string } = {},
): Promise<GitCredential | undefined> {
  if (!request.protocol || !request.host) return undefined;
  let host;
  try {
    host = resolveGitHubHost(`${request.protocol}://${request.host}`);
  } catch {
    return undefined; // not a host loopauth could log in to (e.g. plain http to a remote)
  }
  const dir = options.configDir ?? configDir();
  const account =
    (request.username ? await findAccount(host.key, request.username, { dir }) : undefined) ??
      await findAccount(host.key, options.user, { dir });
  if (!account) return undefined;
  const fresh = await renewAccount(host, account, { dir, signal: options.signal });
  const note = lacksRepoScope(fresh.token) ? repoScopeNote(host.key, fresh.login) : undefined;
  return {
    username: fresh.login,
    password: fresh.token.accessToken,
    ...(fresh.token.expiresAt ? { expiresAt: fresh.token.expiresAt } : {}),
    ...(note ? { note } : {}),
  };
}

/**
 * Whether an OAuth App token lacks `repo` (GitHub then answers "Repository
 * not found" for a private repository, and git asks no helper again). A
 * GitHub App's user token (`ghu_`, no scopes: its app's permissions decide)
 * is not judged by scopes.
 */
function lacksRepoScope(token: { accessToken: string; scopes: string[] }): boolean {
  if (token.scopes.includes("repo")) return false;
  return token.scopes.length > 0 || token.accessToken.startsWith("gho_");
}

/** The note for a token without `repo`, with the command that adds it. */
function repoScopeNote(host: string, login: string): string {
  const where = host === "github.com" ? "" : ` --hostname ${host}`;
  return `loopauth: the token of ${login} on ${host} has no repo scope, so git reaches public repositories only; for private ones run loopauth refresh${where} --scopes repo`;
}

/**
 * The lines git reads back; nothing at all when a value holds a line break
 * or NUL, which would let it add lines of its own (`url=…`: CVE-2020-5260).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCredential } from "./git_credential.ts";
 * assert.equal(
 *   formatCredential({ username: "octocat", password: "gho_…" }),
 *   "username=octocat\npassword=gho_…\n",
 * );
 * const injected = { username: "x\nurl=https://github.com", password: "gho_…" };
 * assert.equal(formatCredential(injected), "");
 * ```
 */
export function formatCredential(credential: GitCredential): string {
  const values: [string, string][] = [
    ["username", credential.username],
    ["password", credential.password],
  ];
  const expiry = Math.floor(Date.parse(credential.expiresAt ?? "") / 1000);
  if (Number.isFinite(expiry)) values.push(["password_expiry_utc", String(expiry)]);
  if (values.some(([, value]) => /[\n\r\0]/.test(value))) return "";
  return values.map(([key, value]) => `${key}=${value}\n`).join("");
}
