/**
 * loopauth: log a terminal user in with OAuth 2.0 (RFC 8252 loopback flow
 * with PKCE) and keep the token, for GitHub and GitHub Enterprise Server,
 * or any OAuth 2.0 / OpenID Connect issuer (`issuer` option).
 *
 * ```ts
 * import { login } from "./mod.ts";
 * const { login: user, accessToken } = await login({
 *   clientId: "Iv1.abc",
 *   clientSecret: "…",
 *   scopes: "read:user",
 *   onAuthorizationUrl: (url) => console.error(`Open ${url}`),
 * });
 * ```
 *
 * Any OpenID Connect provider (discovery, PKCE, `iss` and id_token checks):
 *
 * ```ts
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
export { login, type LoginOptions, type LoginResult, parseScopes } from "./login.ts";
export { type EnvToken, envToken, getAccount, getToken, type GetTokenOptions } from "./token.ts";
export { logout, logoutAll, type LogoutOptions, type LogoutResult } from "./logout.ts";
export { apiRequest, type ApiRequestOptions } from "./api.ts";
export {
  type CallbackParams,
  type CallbackServer,
  serveCallback,
  type ServeCallbackOptions,
  type SubmitResult,
} from "./callback_server.ts";
export {
  buildAuthorizationUrl,
  type CodeContext,
  loopbackFlow,
  type LoopbackFlowOptions,
} from "./flows/loopback.ts";
export {
  chooseFlow,
  type ChooseFlowOptions,
  type Flow,
  type FlowChoice,
  type FlowEnvironment,
  sshForwardCommand,
} from "./flows/choose.ts";
export { deviceFlow, type DeviceFlowOptions } from "./flows/device.ts";
export { type PasteBackOptions, readPastedCallbacks } from "./flows/paste_back.ts";
export type { Page } from "./pages.ts";
export { openBrowser, type OpenBrowserOptions, type OpenResult } from "./browser.ts";
export {
  type DeviceCode,
  type DevicePoll,
  type GitHubHost,
  resolveGitHubHost,
  type TokenSet,
} from "./providers/github.ts";
export {
  type DeviceGrant,
  discoverIssuer,
  type DiscoverIssuerOptions,
  exchangeIssuerCode,
  type ExchangeIssuerCodeOptions,
  fetchUserClaims,
  type IssuerClient,
  issuerDeviceGrant,
  type IssuerMetadata,
  type IssuerTokens,
  loginNameFromClaims,
  type OidcIssuer,
  refreshIssuerTokens,
  revokeIssuerToken,
} from "./providers/oidc.ts";
export {
  type IssuerRef,
  issuerRef,
  issuerSessionExpired,
  parseIssuerUrl,
} from "./providers/issuer_url.ts";
export type { StoredAccount } from "./store/accounts.ts";
export type { StorageName } from "./store/backend.ts";
export {
  actAsUser,
  approveDeviceCode,
  type DevProvider,
  type DevProviderOptions,
  type DevUser,
  type ExpiringTokens,
  type RecordedRequest,
  startDevProvider,
} from "./dev_provider.ts";
export { type ErrorCode, EXIT_CODES, LoopauthError } from "./errors.ts";
export { VERSION } from "./version.ts";
