/**
 * Which {@linkcode Provider} serves a host. GitHub's comes with this module
 * (every command that gets here uses it; loaded later, it cost a login half
 * a millisecond); an issuer's module (and its OpenID Connect library) loads
 * only for an issuer.
 * @module
 */
import type { GitHubHost } from "./github_host.ts";
import type { IssuerRef } from "./issuer_url.ts";
import type { Provider, ProviderOptions } from "./provider.ts";
import { gitHubProvider } from "./github_provider.ts";
import { countStep } from "../core/step_counts.ts";

/** A host as stored and resolved, before anything is loaded: GitHub (or GHES) or an issuer. */
export type HostRef = GitHubHost | IssuerRef;

/**
 * The provider of a host (an issuer's loaded on first use).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { providerFor } from "./registry.ts";
 * import { resolveGitHubHost } from "./github_host.ts";
 * const github = await providerFor(resolveGitHubHost("github.com"));
 * assert.equal(github.settingsUrl, "https://github.com/settings/applications");
 * ```
 */
export async function providerFor(host: HostRef, options: ProviderOptions = {}): Promise<Provider> {
  countStep("provider_made");
  if ("issuer" in host) return (await import("./oidc.ts")).issuerProvider(host.key, options);
  return gitHubProvider(host);
}
