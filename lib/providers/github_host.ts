/**
 * A GitHub or GitHub Enterprise Server host: its OAuth endpoints and API
 * from a host name, and GitHub's grammar for user names. Nothing here makes
 * a request (`github.ts` does), so `token` loads only this.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { countStep } from "../core/step_counts.ts";
import { hideUserinfo, terminalSafe } from "../core/text.ts";
import { isLoopbackHost } from "../core/loopback.ts";

// Where it lived before core/loopback.ts: its importers keep working.
export { isLoopbackHost } from "../core/loopback.ts";

/** Where one GitHub host keeps its OAuth endpoints and API. */
export interface GitHubHost {
  /** The name loopauth stores accounts under: `github.com`, `ghe.example.com`, or an `http://` loopback origin. */
  key: string;
  /** `https://github.com`, `https://ghe.example.com`, `http://127.0.0.1:8080`. */
  origin: string;
  /** `ORIGIN/login/oauth/authorize`. */
  authorizationEndpoint: string;
  /** `ORIGIN/login/oauth/access_token`. */
  tokenEndpoint: string;
  /** `https://api.github.com` for github.com, `ORIGIN/api/v3` for any other host. */
  apiUrl: string;
  /** Where a user reviews and revokes authorized apps. */
  settingsUrl: string;
}

/**
 * Whether `login` follows GitHub's grammar for user names: letters, digits
 * and single hyphens, not starting or ending with a hyphen, at most 39
 * characters. A name a server answers is used only when it does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isGitHubLogin } from "./github_host.ts";
 * assert.equal(isGitHubLogin("mona-lisa"), true);
 * assert.equal(isGitHubLogin("attacker\nusername=x"), false);
 * ```
 */
export function isGitHubLogin(login: unknown): login is string {
  return typeof login === "string" && login.length <= 39 &&
    /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/.test(login);
}

/**
 * Resolves `--hostname` (a host name or an origin) to GitHub's endpoints:
 * github.com's own layout, or the GHES layout for any other host.
 *
 * @throws {LoopauthError} `usage` for a value that is not a host name or a loopback origin
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveGitHubHost } from "./github_host.ts";
 * assert.equal(resolveGitHubHost("ghe.example.com").apiUrl, "https://ghe.example.com/api/v3");
 * ```
 */
export function resolveGitHubHost(hostname = "github.com"): GitHubHost {
  countStep("host_resolved");
  const input = hostname.trim();
  // The default host needs no parsing (`token` and git-credential start here).
  if (input === "github.com") return layout("github.com", "https://github.com");
  const shown = () => terminalSafe(hideUserinfo(input), { max: 80 });
  let url: URL;
  try {
    url = new URL(input.includes("://") ? input : `https://${input}`);
  } catch {
    throw new LoopauthError(
      "usage",
      `Invalid host "${shown()}": give a host name such as ghe.example.com`,
    );
  }
  if (url.username || url.password) {
    // Not echoed: the input holds a password.
    throw new LoopauthError(
      "usage",
      "Invalid host: give the host name without a user name or password",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new LoopauthError(
      "usage",
      `Invalid host "${shown()}": use https://`,
    );
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new LoopauthError(
      "usage",
      `Refusing http:// for ${url.hostname}: only loopback addresses (127.0.0.1, [::1]) may use http://`,
    );
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new LoopauthError(
      "usage",
      `Invalid host "${shown()}": give only a host name or origin, without a path`,
    );
  }
  const origin = url.origin;
  return layout(url.protocol === "https:" ? url.host : origin, origin);
}

/** The endpoints of a host stored under `key`: github.com's own layout, GHES's for any other. */
function layout(key: string, origin: string): GitHubHost {
  return {
    key,
    origin,
    authorizationEndpoint: `${origin}/login/oauth/authorize`,
    tokenEndpoint: `${origin}/login/oauth/access_token`,
    apiUrl: key === "github.com" ? "https://api.github.com" : `${origin}/api/v3`,
    settingsUrl: `${origin}/settings/applications`,
  };
}
