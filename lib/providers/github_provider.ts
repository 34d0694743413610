/**
 * GitHub and GitHub Enterprise Server as a {@linkcode Provider}: the OAuth
 * endpoints of `github.ts`, the REST API through Octokit (`github_api.ts`,
 * loaded on first use).
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { fetchBounded } from "../core/http.ts";
import { VERSION } from "../core/version.ts";
import { exchangeCode, gitHubDeviceGrant, refreshTokens } from "./github.ts";
import { type GitHubHost, isGitHubLogin } from "./github_host.ts";
import type { Provider, TokenCheck } from "./provider.ts";

/**
 * The provider of a GitHub or GHES host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gitHubProvider } from "./github_provider.ts";
 * import { resolveGitHubHost } from "./github_host.ts";
 * const github = gitHubProvider(resolveGitHubHost("ghe.example.com"));
 * assert.deepEqual(github.origins, ["https://ghe.example.com"]);
 * ```
 */
export function gitHubProvider(host: GitHubHost): Provider {
  // Octokit loads only when the API is called.
  const api = () => import("./github_api.ts");
  return {
    key: host.key,
    origins: [host.origin],
    settingsUrl: host.settingsUrl,
    authorize: (client, scopes) =>
      Promise.resolve({
        endpoint: host.authorizationEndpoint,
        scopes,
        params: {},
        redeem: async ({ code, redirectUri, codeVerifier }, options = {}) => {
          const token = await exchangeCode(host, {
            code,
            redirectUri,
            codeVerifier,
            clientId: client.clientId,
            clientSecret: client.clientSecret,
            signal: options.signal,
          });
          // The login's own signal: a lost race does not cut the name off.
          const name = await (await api()).whoami(host.apiUrl, token.accessToken, {
            signal: client.signal,
          });
          return { token, name };
        },
      }),
    device: (client) => Promise.resolve(gitHubDeviceGrant(host, client.clientId)),
    name: async (token, client) =>
      await (await api()).whoami(host.apiUrl, token.accessToken, { signal: client.signal }),
    refresh: (refreshToken, client) => refreshTokens(host, { refreshToken, ...client }),
    revoke: async (token, client) =>
      await (await api()).revokeToken(host.apiUrl, token.accessToken, client),
    check: (accessToken, client) => checkToken(host, accessToken, client.signal),
    request: async (path, call) => {
      if (/^[a-z]+:/i.test(path) || path.startsWith("//")) {
        throw new LoopauthError("usage", "Give an API path such as /user, not a full URL");
      }
      const { apiError, createOctokit } = await api();
      const octokit = await createOctokit(host.apiUrl, {
        token: await call.token(),
        signal: call.signal,
      });
      // The fields are data only, never Octokit's request options (baseUrl, url, headers, …).
      const { method, fields } = call;
      const hasBody = method !== "GET" && method !== "HEAD" && Object.keys(fields).length > 0;
      let url = path.startsWith("/") ? path : `/${path}`;
      if (!hasBody && Object.keys(fields).length > 0) {
        url += `${url.includes("?") ? "&" : "?"}${new URLSearchParams(fields)}`;
      }
      try {
        const response = await octokit.request({
          method,
          url,
          ...(hasBody ? { data: fields } : {}),
        });
        return response.data === "" ? undefined : response.data;
      } catch (error) {
        throw apiError(error, new URL(host.apiUrl).host, call.signal);
      }
    },
    // GET /user goes through @octokit/request: load it before the code comes.
    warmUp: () => void api().then((m) => m.loadRequest()).catch(() => {}),
  };
}

/** Asks the host's API (`GET /user`) whether it accepts the token. */
async function checkToken(
  host: GitHubHost,
  token: string,
  signal?: AbortSignal,
): Promise<TokenCheck> {
  let response: Response;
  try {
    response = await fetchBounded(`${host.apiUrl}/user`, {
      headers: {
        Authorization: `token ${token}`,
        Accept: "application/vnd.github+json",
        "User-Agent": `loopauth/${VERSION}`,
      },
    }, { signal, timeout: 10_000, what: new URL(host.apiUrl).host });
  } catch (error) {
    if (error instanceof LoopauthError && error.code === "network") {
      return { state: "unreachable", detail: error.message };
    }
    throw error;
  }
  const body = await response.text();
  if (response.status === 401) return { state: "invalid" };
  if (response.status !== 200) return { state: "error", detail: `HTTP ${response.status}` };
  let login: string | undefined;
  try {
    const data = JSON.parse(body);
    // Shown on the terminal: only a name that follows GitHub's grammar.
    if (isGitHubLogin(data?.login)) login = data.login;
  } catch { /* no login to show */ }
  const header = response.headers.get("x-oauth-scopes");
  const scopes = header === null ? undefined : header.split(/[\s,]+/).filter(Boolean);
  return { state: "valid", login, scopes };
}
