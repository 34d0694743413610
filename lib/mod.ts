/**
 * loopauth: log a terminal user in with OAuth 2.0 (RFC 8252 loopback flow
 * with PKCE, or the device flow) and keep the token, for GitHub and GitHub
 * Enterprise Server, or any OAuth 2.0 / OpenID Connect issuer (`issuer`
 * option of {@linkcode login}).
 *
 * - {@linkcode token}: a valid token and its account in one call (stored,
 *   refreshed under the lock, a login only where allowed).
 * - {@linkcode login}, {@linkcode getToken} (refreshed when needed),
 *   {@linkcode getAccount} (the stored account, refreshed),
 *   {@linkcode logout} and {@linkcode logoutAll} manage a user's stored token;
 *   {@linkcode apiRequest} makes one REST call with it.
 * - {@linkcode startLogin} and {@linkcode resumeLogin} log in in two steps
 *   (for agents and CI): the first returns at once with the URL and device
 *   code, a background waiter holds the login, the second waits for it or
 *   finishes it with a pasted address.
 * - {@linkcode createLoopauthAuth} is an Octokit authentication strategy.
 * - {@linkcode resourceFetch} reaches an OAuth-protected resource (a remote
 *   MCP server) known only by its URL: discovery, registration, login,
 *   refresh and step-up as the MCP authorization spec says; give its
 *   `fetch` to the MCP SDK's `StreamableHTTPClientTransport`.
 *   {@linkcode resourceLogin} is one such login.
 * - {@linkcode serveCallback} and {@linkcode loopbackFlow} are the loopback
 *   building blocks, for any authorization server.
 * - The test double (a local GitHub for your own tests) is the separate
 *   `./testing` export (`lib/testing.ts`); the MCP SDK's
 *   `OAuthClientProvider` backed by loopauth (`mcpAuthProvider`) is the
 *   separate `./mcp` export (`lib/mcp.ts`).
 * - Every entry point takes an `app` option ({@linkcode resolveApp}): a CLI
 *   built on the library gets its own config directory ({@linkcode configDir}),
 *   keyring service, agent, `PREFIX_*` variables, and its own command in
 *   messages and name on pages; {@linkcode appPermissionFlags} are its
 *   `deno run` flags.
 * - Failures are {@linkcode LoopauthError}s with a stable `code`;
 *   {@linkcode EXIT_CODES} maps each code to the loopauth CLI's exit code.
 *
 * ```ts ignore
 * import { getToken, login } from "./mod.ts";
 * const { login: user } = await login({
 *   clientId: "Iv1.abc",
 *   clientSecret: "…",
 *   scopes: "read:user",
 *   onAuthorizationUrl: (url) => console.error(`Open ${url}`),
 * });
 * const token = await getToken(); // later runs: the stored token, refreshed when needed
 * ```
 *
 * Any OpenID Connect provider (discovery, PKCE, `iss` and id_token checks):
 *
 * ```ts ignore
 * import { getToken, login } from "./mod.ts";
 * const result = await login({
 *   issuer: "https://id.example.com",
 *   clientId: "my-cli",
 *   scopes: "openid offline_access",
 * });
 * console.log(`Logged in as ${result.login}`);
 * const token = await getToken({ issuer: "https://id.example.com" });
 * ```
 *
 * @module
 */
export type { StorageName } from "./store/secrets.ts";
export type { Flow } from "./core/types.ts";
export { type DeviceCode, type DevicePoll, type TokenSet } from "./core/types.ts";
export { login, type LoginOptions, type LoginResult } from "./ops/login.ts";
export {
  type PendingLoginInfo,
  type ResumedLogin,
  resumeLogin,
  type ResumeLoginOptions,
  startLogin,
  type StartLoginOptions,
} from "./ops/two_step_login.ts";
export {
  getAccount,
  getToken,
  type GetTokenOptions,
  type TokenInfo,
  tokenInfo,
} from "./ops/token.ts";
export type { StoredAccount } from "./store/accounts.ts";
export { token, type TokenOptions, type TokenResult } from "./ops/ensure_token.ts";
export {
  type App,
  appEnvName,
  appEnvVars,
  type AppOption,
  type AppOptions,
  appPermissionFlags,
  type AppPermissionOptions,
  type AppRef,
  type AppSecretStore,
  LOOPAUTH_APP,
  resolveApp,
} from "./core/app.ts";
export { configDir, type ConfigDirOptions } from "./store/paths.ts";
export { type ExecCredential, execCredential } from "./ops/exec_credential.ts";
export {
  logout,
  logoutAll,
  type LogoutAllResult,
  type LogoutOptions,
  type LogoutResult,
  type RegistrationLogoutResult,
  type ResourceLogoutResult,
} from "./ops/logout.ts";
export { apiRequest, type ApiRequestOptions } from "./ops/api.ts";
export {
  createLoopauthAuth,
  type LoopauthAuth,
  type LoopauthAuthentication,
  type LoopauthAuthOptions,
  type OctokitRequest,
} from "./ops/octokit_auth.ts";
export {
  type CallbackParams,
  type CallbackServer,
  serveCallback,
  type ServeCallbackOptions,
  type SubmitResult,
} from "./flows/callback_server.ts";
export { type CodeContext, loopbackFlow, type LoopbackFlowOptions } from "./flows/loopback.ts";
export { type LoopbackRedirect, parseRedirectUri } from "./flows/redirect_uri.ts";
export { OWNED_PARAMS, parseParams } from "./flows/authorization_params.ts";
export type { FlowChoice, FlowEnvironment } from "./flows/choose.ts";
export type { DeviceFlowOptions } from "./flows/device.ts";
export type { PasteBackOptions } from "./flows/paste_back.ts";
export type { Page } from "./core/pages.ts";
export type { OpenResult } from "./platform/browser.ts";
export {
  startWaiting,
  type Waiting,
  type WaitingOptions,
  type WaitingStatus,
} from "./platform/status_line.ts";
export { type GitHubHost, resolveGitHubHost } from "./providers/github_host.ts";
export {
  discoverIssuer,
  type DiscoverIssuerOptions,
  type IssuerMetadata,
  type OidcIssuer,
} from "./providers/oidc.ts";
export {
  resourceLogin,
  type ResourceLoginOptions,
  type ResourceLoginResult,
} from "./ops/resource_login.ts";
export {
  MAX_STEP_UPS,
  resourceFetch,
  type ResourceSession,
  type ResourceSessionOptions,
} from "./ops/resource_session.ts";
export { type BearerChallenge, parseBearerChallenge } from "./providers/www_authenticate.ts";
export {
  ERROR_REASONS,
  type ErrorCode,
  type ErrorReason,
  EXIT_CODES,
  LoopauthError,
} from "./core/errors.ts";
export { VERSION } from "./core/version.ts";
