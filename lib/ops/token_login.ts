/**
 * `login --with-token`: a token made elsewhere (a personal access token, or
 * one from another tool) is checked against the host (`GET /user`, its
 * scopes from `X-OAuth-Scopes`) and stored like a login's.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { isBearerToken, NOT_A_BEARER_TOKEN } from "../core/token_syntax.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import { providerFor } from "../providers/registry.ts";
import { saveAccount } from "../store/accounts.ts";
import { chooseStore } from "../store/secret_store.ts";
import { configDir } from "../store/paths.ts";
import { withPreparedConfigDir } from "../store/preflight.ts";
import type { StorageName } from "../store/secrets.ts";
import type { LoginResult } from "./login.ts";

/** Options of {@linkcode loginWithToken}. */
export interface TokenLoginOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** The token. */
  token: string;
  /** The app the token belongs to, when it is an OAuth App's (lets logout revoke it). */
  clientId?: string;
  /** Where to keep it (default: the keyring when one answers, else a running agent, else the file). */
  storage?: StorageName;
  /** Make the account its host's active one (default true; see `LoginOptions.activate`). */
  activate?: boolean;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
  /** Aborting cancels the check; nothing is stored. */
  signal?: AbortSignal;
}

/** The result of {@linkcode loginWithToken}: a login's, with `flow: "token"`. */
export type TokenLoginResult = Omit<LoginResult, "flow"> & { flow: "token" };

/**
 * Checks a token against the host (`GET /user`) and stores it under the
 * user's login, with the scopes the host reports. A token the host refuses
 * is an `oauth` error, a malformed one a `usage` error; neither message
 * shows the token, and nothing is stored.
 *
 * @example
 * ```ts ignore
 * import { loginWithToken } from "./token_login.ts";
 * const result = await loginWithToken({ hostname: "github.com", token: "ghp_…" });
 * console.log(`Logged in to ${result.host} as ${result.login}`);
 * ```
 */
export async function loginWithToken(options: TokenLoginOptions): Promise<TokenLoginResult> {
  const token = options.token.trim();
  if (token === "") {
    throw new LoopauthError(
      "usage",
      "No token on stdin: pipe one in, e.g. loopauth login --with-token < token.txt",
    );
  }
  if (!isBearerToken(token)) {
    throw new LoopauthError("usage", `The token on stdin ${NOT_A_BEARER_TOKEN}`);
  }
  const host = resolveGitHubHost(options.hostname);
  const dir = options.configDir ?? configDir();
  // As a login: an unusable config directory or keyring fails before anything is sent;
  // the directory is checked that once.
  return await withPreparedConfigDir(dir, async () => {
    const { store, fallbackReason } = await chooseStore(options.storage, { dir });
    const provider = await providerFor(host, { signal: options.signal });
    const clientId = options.clientId ?? "";
    const check = await provider.check(token, { clientId, signal: options.signal });
    const what = new URL(host.apiUrl).host;
    if (check.state === "invalid") {
      throw new LoopauthError(
        "oauth",
        `${what} refused the token (HTTP 401): check that it is the whole token, for ${host.key}, and not expired or revoked`,
        { status: 401 },
      );
    }
    if (check.state === "unreachable") throw new LoopauthError("network", check.detail ?? what);
    if (check.state !== "valid") {
      throw new LoopauthError(
        "api",
        `${what} did not accept the token for GET /user (${check.detail ?? check.state})`,
      );
    }
    if (!check.login) {
      throw new LoopauthError(
        "api",
        `${what} answered GET /user without a GitHub user name: nothing was stored`,
      );
    }
    const scopes = check.scopes ?? [];
    await saveAccount(
      {
        host: host.key,
        login: check.login,
        clientId,
        token: { accessToken: token, tokenType: "bearer", scopes },
        createdAt: new Date().toISOString(),
        storage: store.name,
      },
      store,
      { dir, activate: options.activate },
    );
    return {
      host: host.key,
      login: check.login,
      accessToken: token,
      tokenType: "bearer",
      scopes,
      storage: store.name,
      storedIn: store.location,
      ...(fallbackReason ? { keyringUnavailable: fallbackReason } : {}),
      flow: "token",
    };
  });
}

/** The most a token on stdin may take (a token is far shorter). */
const MAX_INPUT = 64 * 1024;

/**
 * Reads a token from `input` (a pipe or a file): all of it up to 64 KiB;
 * more is a `usage` error.
 *
 * @example
 * ```ts
 * import { readTokenInput } from "./token_login.ts";
 * const token = await readTokenInput(Deno.stdin.readable);
 * ```
 */
export async function readTokenInput(input: ReadableStream<Uint8Array>): Promise<string> {
  const reader = input.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size > MAX_INPUT) {
        throw new LoopauthError("usage", "The input on stdin is too long to be a token");
      }
    }
  } finally {
    reader.releaseLock();
  }
  return new TextDecoder().decode(concat(chunks, size)).trim();
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}
