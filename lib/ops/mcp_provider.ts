/**
 * The MCP TypeScript SDK's `OAuthClientProvider` backed by loopauth: give
 * it to `StreamableHTTPClientTransport({ authProvider })` and the SDK's
 * client sends loopauth's token for the server, logged in through
 * loopauth's routes, kept in the app's store and refreshed under its lock.
 *
 * Design: loopauth drives, the SDK only sees tokens. `tokens()` is called
 * before every request; it returns the token of this session, else the
 * stored one (refreshed under the config directory's lock when it expires
 * within a minute, as `token --resource` does), else it logs in with
 * {@linkcode resourceLogin} (loopauth's discovery and checks, the stored
 * or a new registration, every route: browser, paste-back, device where
 * offered) and stores the token. It never gives the SDK a refresh token, so
 * the SDK's `auth()` never spends one outside loopauth's lock (two
 * processes would spend a rotating refresh token twice) and never
 * registers a client or makes a token request of its own. A faithful
 * provider where the SDK drives (its own discovery, registration and
 * refresh, loopauth only opening the browser) was not chosen: it would
 * lose loopauth's metadata checks, the device and paste-back routes, the
 * locked refresh and the registration store, and make every caller handle
 * `finishAuth`.
 *
 * The price: when the server refuses a token loopauth holds as valid (a
 * `401` for a token revoked before its expiry) or asks for more scopes (a
 * `403 insufficient_scope`), the SDK's `auth()` can only succeed by a token
 * request of its own. There this provider renews in
 * `redirectToAuthorization` (a refresh under the lock, else a login; a
 * login for the union of the scopes for a step-up), and that one request
 * fails with the SDK's `UnauthorizedError`; the next one carries the new
 * token. `resourceFetch` (the transport's `fetch`) retries by itself.
 * @module
 */
// Types only (nothing of the SDK is loaded), and without `.js`: the package's `./*` export
// maps `client/auth.js` to a `client/auth.js.d.ts` that does not exist (its types were `any`).
import type { OAuthClientProvider } from "npm:@modelcontextprotocol/sdk@1.32.2/client/auth";
import { LoopauthError } from "../core/errors.ts";
import { isBearerToken } from "../core/token_syntax.ts";
import { needsRefresh } from "../core/expiry.ts";
import type { TokenSet } from "../core/types.ts";
import { resolveApp } from "../core/app.ts";
import { canonicalResource } from "../providers/resource_url.ts";
import {
  type AuthorizationServer,
  rediscoverAuthorizationServer,
} from "../providers/authorization_server.ts";
import { parseScopes } from "./login.ts";
import { resourceToken } from "./resource_account.ts";
import { resourceLogin, type ResourceLoginOptions } from "./resource_login.ts";

/**
 * Options of {@linkcode mcpAuthProvider}: those of a resource login (it always
 * stores). `progress` defaults to `false` here: a login starts inside one of
 * the SDK's requests in a program that owns its terminal and its signals (an
 * agent, a TUI), where the status line's scroll region and SIGTERM handler
 * are not welcome; pass `startWaiting` to draw it.
 */
export type McpAuthProviderOptions = Omit<
  ResourceLoginOptions,
  "resource" | "store" | "challenge"
>;

/** Tokens as the SDK reads them (`OAuthTokens`): never a refresh token. */
export interface McpTokens {
  /** The access token. */
  access_token: string;
  /** `Bearer`. */
  token_type: string;
  /** The granted scopes, space-separated. */
  scope?: string;
  /** Seconds it still lives. */
  expires_in?: number;
  /** The authorization server that issued it. */
  issuer?: string;
}

/** A client as the SDK reads it (`OAuthClientInformation`): its id, never its secret. */
export interface McpClientInformation {
  /** The client id loopauth logged in as. */
  client_id: string;
  /** The authorization server it is registered at. */
  issuer: string;
}

/** What the SDK would register (`OAuthClientMetadata`); loopauth registers itself. */
export interface McpClientMetadata {
  /** The app's name. */
  client_name: string;
  /** A loopback redirect URI. */
  redirect_uris: string[];
  /** `authorization_code`, `refresh_token`. */
  grant_types: string[];
  /** `code`. */
  response_types: string[];
  /** `none`. */
  token_endpoint_auth_method: string;
}

/** Discovery as loopauth made it, for the SDK's `auth()` (`OAuthDiscoveryState`). */
export interface McpDiscoveryState {
  /** The authorization server's issuer. */
  authorizationServerUrl: string;
  /** The resource's metadata: its canonical URI and that issuer. */
  resourceMetadata: { resource: string; authorization_servers: string[] };
  /** The authorization server's endpoints (PKCE S256 checked by loopauth's discovery). */
  authorizationServerMetadata: {
    issuer: string;
    authorization_endpoint: string;
    token_endpoint: string;
    response_types_supported: string[];
    code_challenge_methods_supported: string[];
  };
}

/**
 * loopauth's `OAuthClientProvider` (MCP SDK 1.32) for one MCP server: what
 * the SDK's `auth()` and `StreamableHTTPClientTransport` call.
 */
export interface LoopauthMcpAuthProvider {
  /** The server's canonical URI: the provider's tokens are for it alone. */
  readonly resource: string;
  /** A loopback URI for the SDK's authorization URL, which nobody opens. */
  readonly redirectUrl: string;
  /** What the SDK would register; it never does (loopauth registers). */
  readonly clientMetadata: McpClientMetadata;
  /** The client loopauth logged in as (a login when there is none yet). */
  clientInformation(): Promise<McpClientInformation>;
  /** Nothing to save: loopauth keeps its own registrations. */
  saveClientInformation(information: unknown): void;
  /** The session's token, else the stored one (refreshed under the lock), else a login. */
  tokens(): Promise<McpTokens>;
  /** Tokens of a token request of the SDK's own (`finishAuth`): this session only. */
  saveTokens(tokens: McpTokens): void;
  /** The server refused the token or wants more scopes: loopauth renews (never a redirect). */
  redirectToAuthorization(url: URL): Promise<void>;
  /** Keeps the SDK's PKCE verifier (its authorization URL is never opened). */
  saveCodeVerifier(codeVerifier: string): void;
  /** The SDK's PKCE verifier. */
  codeVerifier(): string;
  /** loopauth's discovery, so the SDK's `auth()` fetches nothing of its own. */
  discoveryState(): Promise<McpDiscoveryState>;
  /** Forgets this session's token (`all`, `tokens`): the next `tokens()` reads the store. */
  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void;
}

/** The token of this session and what it is bound to. */
interface Held {
  token: TokenSet;
  clientId: string;
  issuer: string;
}

/**
 * An `OAuthClientProvider` of the MCP SDK (`@modelcontextprotocol/sdk`
 * 1.32) for the MCP server at `resource`, backed by loopauth (see the
 * module's design note): its tokens are the app's stored ones, refreshed
 * under the lock, a login through loopauth's routes when there is none.
 * Give the transport the same URL.
 *
 * @throws {LoopauthError} `usage` at once for a URL that is not https (http
 * only on this machine); from the SDK's calls of `tokens()`, what
 * {@linkcode resourceLogin} and a refresh throw (the transport's request
 * rejects with it)
 *
 * @example A Deno MCP client that logs in with loopauth
 * ```ts ignore
 * import { Client } from "npm:@modelcontextprotocol/sdk@1.32.2/client/index.js";
 * import { StreamableHTTPClientTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp.js";
 * import { mcpAuthProvider } from "./mcp_provider.ts";
 *
 * const url = "https://mcp.example.com/mcp";
 * const authProvider = mcpAuthProvider(url, { app: "my-agent" });
 * const client = new Client({ name: "my-agent", version: "1.0.0" });
 * await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider }));
 * console.log((await client.listTools()).tools.length);
 * ```
 */
export function mcpAuthProvider(
  resource: string | URL,
  options: McpAuthProviderOptions = {},
): LoopauthMcpAuthProvider {
  const canonical = canonicalResource(String(resource));
  const app = resolveApp(options.app);
  // An app's registration carries its name (the consent page shows it).
  const login = {
    ...options,
    progress: options.progress ?? false,
    app,
    clientName: options.clientName ?? (options.app ? app.name : undefined),
    resource: canonical,
    store: true,
  };
  const stored = {
    configDir: options.configDir,
    app,
    omitResourceParameter: options.omitResourceParameter,
    signal: options.signal,
  };
  let held: Held | undefined;
  let verifier: string | undefined;
  let server: AuthorizationServer | undefined;

  // One login or refresh at a time: the SDK asks for tokens from concurrent requests.
  let busy: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = busy.then(work, work);
    busy = next.catch(() => {});
    return next;
  };
  const usable = () => held && !needsRefresh(held.token.expiresAt) ? held : undefined;

  const logIn = async (scopes?: string[]): Promise<Held> => {
    const result = await resourceLogin(scopes ? { ...login, scopes } : login);
    return held = { token: result, clientId: result.clientId, issuer: result.authorizationServer };
  };
  /** The stored token (refreshed under the lock when due, or `force`d), else a login. */
  const fromStore = async (force: boolean): Promise<Held> => {
    try {
      const account = await resourceToken(canonical, { ...stored, force });
      return held = {
        token: account.token,
        clientId: account.clientId,
        issuer: account.authorizationServer!,
      };
    } catch (error) {
      // None stored, or a session over (a refused refresh token): a login.
      if (
        !(error instanceof LoopauthError) ||
        (error.code !== "not_logged_in" && error.code !== "session_expired")
      ) throw error;
      return await logIn();
    }
  };
  const ensure = async (): Promise<Held> =>
    usable() ?? await serial(async () => usable() ?? await fromStore(false));

  const redirectUrl = "http://127.0.0.1/callback";
  const provider: LoopauthMcpAuthProvider = {
    resource: canonical,
    // The SDK puts these in an authorization URL nobody opens (loopauth's login picks its
    // own port, client and registration); they are never sent anywhere.
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata(): McpClientMetadata {
      return {
        client_name: login.clientName ?? app.name,
        redirect_uris: [redirectUrl],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      };
    },
    async clientInformation(): Promise<McpClientInformation> {
      const { clientId, issuer } = await ensure();
      return { client_id: clientId, issuer };
    },
    // loopauth keeps its own registrations (lib/store/registrations.ts): nothing to save.
    saveClientInformation() {},
    async tokens(): Promise<McpTokens> {
      const { token, issuer } = await ensure();
      const left = token.expiresAt
        ? Math.max(0, Math.floor((Date.parse(token.expiresAt) - Date.now()) / 1000))
        : undefined;
      // No refresh_token: refreshes are loopauth's, under its lock.
      return {
        access_token: token.accessToken,
        token_type: "Bearer",
        ...(token.scopes.length ? { scope: token.scopes.join(" ") } : {}),
        ...(left === undefined ? {} : { expires_in: left }),
        issuer,
      };
    },
    // Only after a token request of the SDK's own (`finishAuth` with a code obtained
    // elsewhere): kept for this session, not stored (loopauth did not check them).
    saveTokens(tokens: McpTokens) {
      if (!held || !isBearerToken(tokens.access_token)) return;
      held = {
        ...held,
        token: {
          accessToken: tokens.access_token,
          tokenType: tokens.token_type,
          scopes: parseScopes(tokens.scope),
          ...(tokens.expires_in === undefined
            ? {}
            : { expiresAt: new Date(Date.now() + tokens.expires_in * 1000).toISOString() }),
        },
      };
    },
    // The server refused the token (401) or wants more scopes (403): loopauth renews.
    async redirectToAuthorization(url: URL) {
      const asked = parseScopes(url.searchParams.get("scope") ?? undefined);
      await serial(async () => {
        const have = held?.token.scopes ?? [];
        if (asked.some((scope) => !have.includes(scope))) {
          await logIn([...new Set([...have, ...asked])]);
        } else {
          await fromStore(true);
        }
      });
    },
    saveCodeVerifier(codeVerifier: string) {
      verifier = codeVerifier;
    },
    codeVerifier(): string {
      if (verifier === undefined) throw new Error("No PKCE code verifier saved");
      return verifier;
    },
    // The SDK's auth() then uses loopauth's discovery (its checks, no requests of its own).
    async discoveryState(): Promise<McpDiscoveryState> {
      const { issuer } = await ensure();
      if (server?.issuer !== issuer) {
        server = await rediscoverAuthorizationServer(issuer, canonical, { signal: options.signal });
      }
      return {
        authorizationServerUrl: issuer,
        resourceMetadata: { resource: canonical, authorization_servers: [issuer] },
        authorizationServerMetadata: {
          issuer: server.issuer,
          authorization_endpoint: server.authorizationEndpoint,
          token_endpoint: server.tokenEndpoint,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
        },
      };
    },
    invalidateCredentials(scope) {
      if (scope === "all" || scope === "tokens") held = undefined;
    },
  };
  // Checked when type-checking: the SDK takes it as its OAuthClientProvider.
  return provider satisfies OAuthClientProvider;
}
