/**
 * loopauth's test double: a built-in GitHub-compatible provider on
 * 127.0.0.1 for your own CLI's tests (the `./testing` export, apart from
 * the library in `./mod.ts`). It answers the OAuth endpoints (with GitHub's
 * quirks), the device flow, the REST API's `/user` and OAuth app endpoints,
 * GraphQL's `viewer`, git over HTTP for a demo repository, optionally over
 * https (`tls: true`), and plays the user for you.
 *
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { login } from "./mod.ts";
 * import { actAsUser, startDevProvider } from "./testing.ts";
 * const provider = startDevProvider();
 * const result = await login({
 *   hostname: provider.origin,
 *   clientId: provider.clientId,
 *   clientSecret: provider.clientSecret,
 *   store: false,
 *   openBrowser: false,
 *   onAuthorizationUrl: (url) => void actAsUser(url),
 * });
 * assert.equal(result.login, "octocat");
 * await provider.close();
 * ```
 * @module
 */
export {
  actAsUser,
  approveDeviceCode,
  type DevProvider,
  type DevProviderOptions,
  type DevRepository,
  type DevRoute,
  type DevRouteContext,
  type DevUser,
  type ExpiringTokens,
  type RecordedRequest,
  startDevProvider,
  type UserOptions,
} from "./dev/provider.ts";
export { type MemorySecrets, memorySecrets } from "./dev/memory_secrets.ts";
export { type DevMcp, type DevMcpOptions, type DevMcpRequest, startDevMcp } from "./dev/mcp.ts";
export { type CountedStep, resetStepCounts, stepCounts } from "./core/step_counts.ts";
