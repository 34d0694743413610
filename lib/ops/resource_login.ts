/**
 * `login` to a protected resource known only by its URL (MCP authorization,
 * 2025-11-25): its `401` challenge, its RFC 9728 metadata (or the 2025-03-26
 * fallbacks), its authorization server's metadata, a client (given, a
 * client ID metadata document, or registered), the scopes to ask for; then
 * the routes of every login ({@linkcode loginWith}), with the RFC 8707
 * `resource` on every request.
 * @module
 */
import { type LoginOptions, type LoginResult, loginWith, parseScopes } from "./login.ts";
import { canonicalResource, fetchResource } from "../providers/resource_url.ts";
import { type BearerChallenge, parseBearerChallenge } from "../providers/www_authenticate.ts";
import { discoverResource } from "../providers/resource_metadata.ts";
import {
  type AuthorizationServer,
  discoverAuthorizationServer,
  legacyAuthorizationServer,
} from "../providers/authorization_server.ts";
import { chooseClient, type ResourceClient } from "../providers/resource_client.ts";
import { RESOURCE_LOGIN_NAME, resourceProvider } from "../providers/resource_provider.ts";
import { DEVICE_GRANT_TYPE, type TokenSet } from "../core/types.ts";
import { LoopauthError } from "../core/errors.ts";
import { listenError } from "../core/listen_error.ts";
import { type App, inApp, resolveApp } from "../core/app.ts";
import { saveResourceAccount } from "../store/accounts.ts";
import { loadRegistration, removeRegistration, saveRegistration } from "../store/registrations.ts";
import { isPast } from "../core/expiry.ts";
import { chooseStore, type ChosenStore } from "../store/secret_store.ts";
import { configDir } from "../store/paths.ts";
import { withPreparedConfigDir } from "../store/preflight.ts";

/** Options of {@linkcode resourceLogin}. */
export interface ResourceLoginOptions extends
  Omit<
    LoginOptions,
    "hostname" | "issuer" | "allowNoPkceMetadata" | "clientId" | "defaultScopes" | "store"
  > {
  /**
   * Store the token under the resource (and reuse a client registered
   * at its authorization server by an earlier login): default false, the
   * caller keeps the token; the CLI's `login --resource` and `mcp-proxy` store.
   */
  store?: boolean;
  /** The resource's URL (an MCP server's endpoint). */
  resource: string;
  /** A client id registered at the resource's authorization server. */
  clientId?: string;
  /** The https URL of the app's client ID metadata document, used where the server takes one. */
  clientMetadataUrl?: string;
  /** The name shown on the authorization server's consent page when registering (default `loopauth`). */
  clientName?: string;
  /** The challenge of the resource's `401` or `403`, when the caller already has one. */
  challenge?: BearerChallenge;
  /** Send no RFC 8707 `resource` (for servers that reject it). */
  omitResourceParameter?: boolean;
}

/** The result of a resource login: the token and what it is bound to. */
export interface ResourceLoginResult extends LoginResult {
  /** The resource's canonical URI. */
  resource: string;
  /** The authorization server's issuer. */
  authorizationServer: string;
  /** The client logged in as (its secret never). */
  clientId: string;
  /**
   * Spends a refresh token for a new pair at the resource's authorization
   * server (with the `resource`); a refused one is `session_expired`.
   */
  refresh(refreshToken: string, options?: { signal?: AbortSignal }): Promise<TokenSet>;
}

/** What discovery settled for a resource. */
export interface ResourceDiscovery {
  /** The resource's canonical URI. */
  resource: string;
  /** The RFC 8707 `resource` value its metadata names. */
  resourceParam: string;
  /** Its authorization server. */
  server: AuthorizationServer;
  /** The scopes to ask for: the challenge's, else the resource's `scopes_supported`, else none. */
  scopes: string[];
}

/**
 * Discovery of a resource: a challenge from an unauthenticated request when
 * none is given, the resource metadata, the authorization server's.
 *
 * @example
 * ```ts ignore
 * import { discoverResourceLogin } from "./resource_login.ts";
 * const found = await discoverResourceLogin("https://mcp.example.com/mcp");
 * console.log(found.server.issuer, found.scopes);
 * ```
 */
export async function discoverResourceLogin(
  resource: string,
  options: { challenge?: BearerChallenge; signal?: AbortSignal } = {},
): Promise<ResourceDiscovery> {
  const canonical = canonicalResource(resource);
  const challenge = options.challenge ?? await probe(canonical, options.signal);
  const metadata = await discoverResource(canonical, { challenge, signal: options.signal });
  const server = metadata
    ? await discoverAuthorizationServer(metadata.authorizationServers[0], options)
    : await legacyAuthorizationServer(canonical, options);
  const scopes = challenge?.scope !== undefined
    ? parseScopes(challenge.scope)
    : metadata?.scopesSupported ?? [];
  return { resource: canonical, resourceParam: metadata?.resource ?? canonical, server, scopes };
}

/**
 * Logs in to a resource by its URL. The token is not stored yet: the
 * caller (`mcp-proxy`) keeps it for its session.
 *
 * @throws {LoopauthError} as `login()` does, and `network` or `oauth` when the resource's
 * or its authorization server's metadata cannot be used
 *
 * @example
 * ```ts ignore
 * import { resourceLogin } from "./resource_login.ts";
 * const result = await resourceLogin({
 *   resource: "https://mcp.example.com/mcp",
 *   onAuthorizationUrl: (url) => console.error(`Open ${url}`),
 * });
 * console.log(result.authorizationServer, result.scopes);
 * ```
 */
export async function resourceLogin(options: ResourceLoginOptions): Promise<ResourceLoginResult> {
  const app = resolveApp(options.app);
  // Its failures are said as the app says them (once, after any retry).
  return await inApp(app, async () => {
    if (!options.store) return await loginAtResource(options, { app, dir: "", retried: false });
    // A stored login checks its config directory once, before anything else (a retry too).
    const dir = options.configDir ?? configDir({ app });
    return await withPreparedConfigDir(
      dir,
      () => loginAtResource(options, { app, dir, retried: false }),
    );
  });
}

/**
 * {@linkcode resourceLogin} with its app and config directory (none when
 * nothing is stored); `retried` once a refused registration was replaced.
 */
async function loginAtResource(
  options: ResourceLoginOptions,
  { app, dir, retried }: { app: App; dir: string; retried: boolean },
): Promise<ResourceLoginResult> {
  const found = await discoverResourceLogin(options.resource, options);
  const scopes = options.scopes === undefined ? found.scopes : parseScopes(options.scopes);
  // A registration made for this authorization server is used again, with the redirect URI
  // it names exactly (a step-up or a second process registers no second client): this
  // process's first, else the one stored (a secret from the secret store; keyed by the
  // issuer, so a registration is never sent to another server). An expired secret
  // (RFC 7591 client_secret_expires_at) is a new registration, and so is one without the
  // device grant where the server offers it (an earlier release's, or one made while the
  // server offered none: the server would refuse it the device route every time).
  const key = `${found.server.issuer} ${options.clientName ?? ""}`;
  const given = Boolean(options.clientId || options.redirectUri);
  const fits = (grantTypes: string[] | undefined) =>
    !found.server.deviceAuthorizationEndpoint || Boolean(grantTypes?.includes(DEVICE_GRANT_TYPE));
  const remembered = REGISTRATIONS.get(key);
  const inMemory = remembered && !isPast(remembered.client.secretExpiresAt) &&
      fits(remembered.client.grantTypes)
    ? remembered
    : undefined;
  const loaded = given || !options.store || inMemory
    ? undefined
    : await loadRegistration(key, { dir, app });
  const stored = loaded && fits(loaded.grantTypes) ? loaded : undefined;
  const reused = given ? undefined : onPort(
    inMemory ?? (stored && {
      client: {
        clientId: stored.clientId,
        ...(stored.clientSecret ? { clientSecret: stored.clientSecret } : {}),
        authMethod: stored.authMethod as ResourceClient["authMethod"],
        source: "registered" as const,
        ...(stored.secretExpiresAt ? { secretExpiresAt: stored.secretExpiresAt } : {}),
        ...(stored.grantTypes ? { grantTypes: stored.grantTypes } : {}),
      },
      redirectUri: stored.redirectUri,
    }),
    options.port,
  );
  // A registration names its redirect URI exactly: the port is chosen before it.
  const redirectUri = options.redirectUri ?? reused?.redirectUri ??
    `http://127.0.0.1:${
      options.port === undefined ? freePort() : checkedPort(options.port)
    }/callback`;
  // Chosen before the browser opens (the encrypted file asks for its passphrase now).
  const chosen: ChosenStore | undefined = options.store
    ? await chooseStore(options.storage, { dir, app })
    : undefined;
  const client: ResourceClient = reused?.client ?? await chooseClient(found.server, {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    metadataDocumentUrl: options.clientMetadataUrl,
    clientName: options.clientName,
    redirectUri,
    signal: options.signal,
  });
  if (client.source === "registered") {
    REGISTRATIONS.set(key, { client, redirectUri });
    // Its secret goes where the token goes (never the config file).
    if (chosen && !reused) {
      await saveRegistration(key, { ...client, redirectUri }, chosen.store, { dir, app });
    }
  }
  const own = options.redirectUri
    ? null
    : /^http:\/\/127\.0\.0\.1:(\d+)\/callback$/.exec(redirectUri);
  const provider = resourceProvider({
    resource: found.resource,
    ...(options.omitResourceParameter ? {} : { resourceParam: found.resourceParam }),
    server: found.server,
    client,
  });
  const result = await loginWith({
    ...options,
    // loopauth's own redirect URI is listened on by its port (a taken one then says --port,
    // which mcp-proxy has too); any other exactly, as its registration names it. The device
    // route alone has no redirect URI (one the user gave is refused there).
    ...(own ? { port: Number(own[1]), redirectUri: undefined } : {
      port: undefined,
      redirectUri: options.flow === "device" && !options.redirectUri ? undefined : redirectUri,
    }),
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    scopes,
    store: false,
  }, { issuer: true, provider: () => Promise.resolve(provider) }).catch(async (error) => {
    // A registration the server no longer knows (or whose secret it changed) is forgotten;
    // one reused from earlier is replaced by a new one, once, in this same login. Only this
    // client is forgotten: one another process stored meanwhile is kept.
    if (error instanceof LoopauthError && error.oauthError === "invalid_client") {
      if (REGISTRATIONS.get(key)?.client.clientId === client.clientId) REGISTRATIONS.delete(key);
      if (options.store) {
        await removeRegistration(key, { dir, app, clientId: client.clientId }).catch(() => {});
      }
      if (reused && !retried) return undefined;
    }
    throw error;
  });
  if (!result) return await loginAtResource(options, { app, dir, retried: true });
  const done: ResourceLoginResult = {
    ...result,
    resource: found.resource,
    authorizationServer: found.server.issuer,
    clientId: client.clientId,
    refresh: (refreshToken, asked = {}) =>
      provider.refresh(refreshToken, { clientId: client.clientId, signal: asked.signal }),
  };
  if (chosen) {
    const token = done;
    await saveResourceAccount(
      {
        host: found.resource,
        login: RESOURCE_LOGIN_NAME,
        clientId: client.clientId,
        ...(client.clientSecret ? { clientSecret: client.clientSecret } : {}),
        token: {
          accessToken: token.accessToken,
          tokenType: token.tokenType,
          scopes: token.scopes,
          ...(token.refreshToken ? { refreshToken: token.refreshToken } : {}),
          ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}),
          ...(token.refreshTokenExpiresAt
            ? { refreshTokenExpiresAt: token.refreshTokenExpiresAt }
            : {}),
        },
        createdAt: new Date().toISOString(),
        storage: chosen.store.name,
        authorizationServer: found.server.issuer,
        authMethod: client.authMethod,
      },
      chosen.store,
      { dir, app },
    );
    done.storedIn = chosen.store.location;
    done.storage = chosen.store.name;
    if (chosen.fallbackReason) done.keyringUnavailable = chosen.fallbackReason;
  }
  return done;
}

/**
 * Registrations this process made or used, by authorization server (and
 * client name): what a login that stores nothing reuses (a step-up in the
 * same session), and what spares a storing one the store's read. A storing
 * login also keeps each in the store (`saveRegistration`).
 */
const REGISTRATIONS = new Map<string, { client: ResourceClient; redirectUri: string }>();

/** The challenge of an unauthenticated GET of the resource, when it answers 401 with one. */
async function probe(
  resource: string,
  signal: AbortSignal | undefined,
): Promise<BearerChallenge | undefined> {
  const response = await fetchResource(new URL(resource), { method: "GET" }, {
    what: resource,
    signal,
  }).catch((error) => {
    // A resource that cannot be reached at all is said so, naming it (its metadata is on
    // the same host); one that only answers nothing in time may still have metadata.
    if (!(error instanceof LoopauthError)) return undefined;
    const late = error.cause instanceof DOMException && error.cause.name === "TimeoutError";
    if (error.code === "network" && late) return undefined;
    throw error;
  });
  await response?.body?.cancel();
  return response?.status === 401
    ? parseBearerChallenge(response.headers.get("www-authenticate"))
    : undefined;
}

/**
 * A registration to reuse for a login asked to listen on `port`: one whose
 * redirect URI is on another port is not (a `--port` chosen because its port
 * is taken registers anew, for the port asked for).
 */
function onPort<T extends { redirectUri: string }>(
  registration: T | undefined,
  port: number | undefined,
): T | undefined {
  if (!registration || port === undefined) return registration;
  return new URL(registration.redirectUri).port === String(port) ? registration : undefined;
}

/**
 * `port` when it is free on 127.0.0.1 now: a `--port` taken is said before
 * a client is registered with a redirect URI on it.
 */
function checkedPort(port: number): number {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (error) {
    throw listenError(error, port) ?? error;
  }
  return port;
}

/** A port free on 127.0.0.1 now (the OS picks it; the callback server takes it next). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
