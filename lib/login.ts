/**
 * `login`: the loopback flow, the device flow, or both at once, against
 * GitHub, GHES or an OAuth 2.0 / OpenID Connect issuer; then the user's name,
 * then the token is stored.
 * @module
 */
import { LoopauthError } from "./errors.ts";
import { loopbackFlow } from "./flows/loopback.ts";
import {
  DEVICE_UNAVAILABLE,
  exchangeCode,
  gitHubDeviceGrant,
  type GitHubHost,
  resolveGitHubHost,
  type TokenSet,
} from "./providers/github.ts";
// The choice of flow, the device flow, the race of both and OpenID Connect
// load only when a login needs them (imported below where used).
import type { Flow, FlowChoice, FlowEnvironment } from "./flows/choose.ts";
import type { DeviceFlowOptions } from "./flows/device.ts";
import type { PasteBackOptions } from "./flows/paste_back.ts";
import type { RaceContext } from "./flows/race.ts";
import { rememberedFlow, rememberFlow } from "./store/flow_memory.ts";
import { loadOctokit, whoami } from "./github_api.ts";
import { saveAccount } from "./store/accounts.ts";
import { chooseBackend, type ChosenBackend, type StorageName } from "./store/backend.ts";
import { configDir } from "./store/paths.ts";
import { prepareConfigDir } from "./store/preflight.ts";
import { openBrowser } from "./browser.ts";
import type { DeviceGrant } from "./flows/device.ts";
import type { CodeContext } from "./flows/loopback.ts";
import * as oauth from "npm:oauth4webapi@^3";

/** Options of {@linkcode login}. */
export interface LoginOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /**
   * An OAuth 2.0 / OpenID Connect issuer URL instead of GitHub: endpoints
   * from its metadata, accounts stored under the issuer URL.
   */
  issuer?: string;
  /** With `issuer`: continue (warning) when its metadata does not list PKCE S256. */
  allowNoPkceMetadata?: boolean;
  /** Called with one-line warnings (e.g. about the issuer's metadata). */
  onWarning?: (message: string) => void;
  /** The OAuth App or GitHub App client id. */
  clientId: string;
  /** The app's client secret (GitHub requires it for the web flow). */
  clientSecret?: string;
  /** Scopes, as a list or a comma/space-separated string. */
  scopes?: string[] | string;
  /** Fixed callback port (default: a free port from the OS). */
  port?: number;
  /** Milliseconds to wait for the browser (default 5 minutes). */
  timeout?: number;
  /** Aborting stops the login, frees the port and stores nothing. */
  signal?: AbortSignal;
  /**
   * How to show the URL to the user: `true` (default) opens the system
   * browser, `false` opens nothing, a function is called with the URL.
   */
  openBrowser?: boolean | ((url: string) => unknown);
  /** Called with the authorization URL as soon as it is known (print it here). */
  onAuthorizationUrl?: (url: string) => void;
  /** Where to store the account (default: the user's config directory). */
  configDir?: string;
  /** Store the token (default true). */
  store?: boolean;
  /**
   * Where to keep the secrets: `keyring` (an error if none works), `file`,
   * or (default) the keyring when one answers, else the file.
   */
  storage?: StorageName;
  /**
   * `web` (default): the loopback flow; `device`: the device flow (no client
   * secret needed); `auto`: decide from the environment and what worked last
   * time, and run both on an SSH session.
   */
  flow?: "auto" | Flow;
  /** With `flow: "auto"`: called with the flows that will run and why (again on a fallback). */
  onFlowChosen?: (choice: FlowChoice) => void;
  /** Called with the device code to show (see {@linkcode DeviceFlowOptions}). */
  onDeviceCode?: DeviceFlowOptions["onDeviceCode"];
  /** What `auto` decides from (default: this process's environment). */
  environment?: FlowEnvironment;
  /** Also accept the redirect URL pasted into `input` (the CLI: a terminal's stdin). */
  pasteBack?: Pick<PasteBackOptions, "input" | "write">;
}

/** The result of a successful login. */
export interface LoginResult extends TokenSet {
  /** The host key the account is stored under. */
  host: string;
  /** The user's login name. */
  login: string;
  /** The credentials file, when the token was stored. */
  storedIn?: string;
  /** `keyring` or `file`, when the token was stored. */
  storage?: StorageName;
  /** Why the keyring was not used, when the file was picked automatically. */
  keyringUnavailable?: string;
  /** The flow that logged the user in. */
  flow: Flow;
}

/**
 * Splits a scope list given as `"read:user repo"` or `"read:user,repo"`.
 *
 * @example
 * ```ts
 * import { parseScopes } from "./login.ts";
 * parseScopes("read:user,repo gist"); // ["read:user", "repo", "gist"]
 * ```
 */
export function parseScopes(scopes: string[] | string | undefined): string[] {
  const list = typeof scopes === "string" ? [scopes] : scopes ?? [];
  return [...new Set(list.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean))];
}

/**
 * Logs a user in through the browser with the loopback flow and stores the
 * token.
 *
 * @example
 * ```ts
 * import { login } from "./login.ts";
 * const result = await login({
 *   clientId: "Iv1.abc", clientSecret: "…", scopes: "read:user",
 *   onAuthorizationUrl: (url) => console.error(url),
 * });
 * console.log(`Logged in to ${result.host} as ${result.login}`);
 * ```
 */
export async function login(options: LoginOptions): Promise<LoginResult> {
  if (!options.clientId) {
    throw new LoopauthError(
      "usage",
      "A client id is needed: pass --client-id or set LOOPAUTH_CLIENT_ID",
    );
  }
  const host = options.issuer === undefined
    ? gitHubProvider(resolveGitHubHost(options.hostname), options)
    : await issuerProvider(options.issuer, options);
  const dir = options.configDir ?? configDir();
  // Before any flow starts: an unusable config directory must not cost the user a consent.
  if (options.store ?? true) await prepareConfigDir(dir);
  // Chosen before any flow starts, so a missing keyring costs the user nothing.
  const store = (options.store ?? true) ? await chooseBackend(options.storage, { dir }) : undefined;
  const session: Session = { host, options, dir, store };
  const flow = options.flow ?? "web";
  const choice = flow === "auto"
    ? await (await import("./flows/choose.ts")).chooseFlow({
      remembered: store
        ? await rememberedFlow(host.key, { dir }).catch(() => undefined)
        : undefined,
      host: host.key,
      environment: options.environment,
    })
    : { flows: [flow], reason: "it was chosen explicitly" };
  if (flow === "auto") options.onFlowChosen?.(choice);
  const run = (name: Flow, race?: RaceContext) =>
    name === "web" ? webLogin(session, race) : deviceLogin(session, race);
  const unavailable = (error: unknown) =>
    error instanceof LoopauthError && error.cause === DEVICE_UNAVAILABLE;
  const fallBack = () =>
    options.onFlowChosen?.({
      flows: ["web"],
      reason: `the device flow is not available for this app on ${host.key}`,
    });
  if (choice.flows.length === 1) {
    try {
      return await run(choice.flows[0]);
    } catch (error) {
      if (flow !== "auto" || !unavailable(error)) throw error;
      fallBack();
      return await run("web");
    }
  }
  const { raceFlows } = await import("./flows/race.ts");
  const { value } = await raceFlows<LoginResult>(
    Object.fromEntries(choice.flows.map((name) => [name, (race: RaceContext) => run(name, race)])),
    {
      signal: options.signal,
      dropsOut: (error) =>
        unavailable(error) || (error instanceof LoopauthError && error.code === "timeout"),
      onDropOut: (_name, error) => unavailable(error) && fallBack(),
    },
  );
  return value;
}

/** What a login needs from its provider: GitHub (or GHES) or an OAuth/OIDC issuer. */
interface LoginProvider {
  /** The key accounts are stored under. */
  key: string;
  /** True for an issuer (`--issuer`). */
  issuer?: true;
  authorizationEndpoint: string;
  /** Expected `iss` of the callback (RFC 9207), when the server sends one. */
  expectedIss?: string;
  /** Extra authorization parameters per attempt (an OpenID Connect `nonce`) and their check. */
  redeem: (
    context: CodeContext,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ) => Promise<{ token: TokenSet; name: string }>;
  /** Makes the extra authorization parameters of one attempt. */
  extraParams: () => Record<string, string>;
  /** Scopes to ask for. */
  scopes: string[];
  /** The device grant; `undefined` when the provider has none. */
  device?: DeviceGrant;
  /** The login name of a device-flow token. */
  name: (token: TokenSet, signal?: AbortSignal) => Promise<string>;
  /** Work to start while the user is in the browser, for what comes after. */
  warmUp?: () => void;
}

function gitHubProvider(host: GitHubHost, options: LoginOptions): LoginProvider {
  const name = (token: TokenSet, signal?: AbortSignal) =>
    whoami(host.apiUrl, token.accessToken, { signal });
  return {
    key: host.key,
    authorizationEndpoint: host.authorizationEndpoint,
    scopes: parseScopes(options.scopes),
    extraParams: () => ({}),
    redeem: async ({ code, redirectUri, codeVerifier }, _extra, signal) => {
      const token = await exchangeCode(host, {
        code,
        redirectUri,
        codeVerifier,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        signal,
      });
      return { token, name: await name(token, options.signal) };
    },
    device: gitHubDeviceGrant(host, options.clientId),
    name,
    // GET /user goes through Octokit: load it before the code comes.
    warmUp: () => void loadOctokit().catch(() => {}),
  };
}

async function issuerProvider(url: string, options: LoginOptions): Promise<LoginProvider> {
  const {
    discoverIssuer,
    exchangeIssuerCode,
    fetchUserClaims,
    issuerDeviceGrant,
    loginNameFromClaims,
  } = await import("./providers/oidc.ts");
  const issuer = await discoverIssuer(url, {
    signal: options.signal,
    allowNoPkceMetadata: options.allowNoPkceMetadata,
    onWarning: options.onWarning,
  });
  const client = { clientId: options.clientId, clientSecret: options.clientSecret };
  const given = parseScopes(options.scopes);
  // OpenID Connect by default when the issuer speaks it: an id_token names the user.
  const scopes = given.length || !issuer.metadata.scopes_supported?.includes("openid")
    ? given
    : ["openid"];
  const openid = scopes.includes("openid");
  const name = async (token: TokenSet, claims?: Record<string, unknown>, signal?: AbortSignal) =>
    loginNameFromClaims(
      claims ?? await fetchUserClaims(issuer, token.accessToken, { ...client, signal }) ?? {},
    ) ?? "default";
  return {
    key: issuer.key,
    issuer: true,
    authorizationEndpoint: issuer.metadata.authorization_endpoint!,
    expectedIss: issuer.metadata.authorization_response_iss_parameter_supported
      ? issuer.key
      : undefined,
    scopes,
    extraParams: (): Record<string, string> => openid ? { nonce: oauth.generateRandomNonce() } : {},
    redeem: async (context, extra, signal) => {
      const { tokens, claims } = await exchangeIssuerCode(issuer, {
        ...client,
        params: context.params,
        redirectUri: context.redirectUri,
        codeVerifier: context.codeVerifier,
        nonce: extra.nonce,
        signal,
      });
      return { token: tokens, name: await name(tokens, claims, signal) };
    },
    device: issuerDeviceGrant(issuer, client),
    name: (token, signal) => name(token, undefined, signal),
  };
}

/** One login's settings, shared by its flows. */
interface Session {
  host: LoginProvider;
  options: LoginOptions;
  /** The config directory. */
  dir: string;
  /** Where the token goes; none when `store: false`. */
  store?: ChosenBackend;
}

/** The loopback flow; inside a race, it claims the login before the code exchange. */
async function webLogin(session: Session, race?: RaceContext): Promise<LoginResult> {
  const { host, options } = session;
  const open = options.openBrowser ?? true;
  const signal = race?.signal ?? options.signal;
  const extraParams = host.extraParams();
  return await loopbackFlow<LoginResult>({
    authorizationEndpoint: host.authorizationEndpoint,
    clientId: options.clientId,
    scopes: host.scopes,
    issuer: host.expectedIss,
    extraParams,
    port: options.port,
    timeout: options.timeout,
    signal,
    pasteBack: options.pasteBack,
    onAuthorizationUrl: async (url) => {
      options.onAuthorizationUrl?.(url);
      const opening = typeof open === "function" ? open(url) : open ? openBrowser(url) : undefined;
      // Once the URL is out and the browser started, not to delay them.
      host.warmUp?.();
      await opening;
    },
    complete: async (context) => {
      race?.claim();
      const { token, name } = await host.redeem(context, extraParams, signal);
      return await finish(session, { token, name, flow: "web" });
    },
    successPage: (result) => ({
      title: `Logged in to ${result.host} as ${result.login}`,
      message: "You can close this tab and return to the terminal.",
    }),
  });
}

/** The device flow; inside a race, it claims the login once the token came. */
async function deviceLogin(session: Session, race?: RaceContext): Promise<LoginResult> {
  const { host, options } = session;
  if (!host.device) {
    throw new LoopauthError(
      "oauth",
      `${host.key} advertises no device_authorization_endpoint: log in with --web`,
      { cause: DEVICE_UNAVAILABLE },
    );
  }
  const { deviceFlow } = await import("./flows/device.ts");
  const token = await deviceFlow(host.device, {
    scopes: host.scopes,
    signal: race?.signal ?? options.signal,
    timeout: options.timeout,
    onDeviceCode: options.onDeviceCode,
  });
  race?.claim();
  const name = await host.name(token, options.signal);
  return await finish(session, { token, name, flow: "device" });
}

/** The token is stored under the user's name and the flow remembered. */
async function finish(
  { host, options, dir, store }: Session,
  { token, name, flow }: { token: TokenSet; name: string; flow: Flow },
): Promise<LoginResult> {
  const result: LoginResult = { ...token, host: host.key, login: name, flow };
  if (store) {
    const { backend, fallbackReason } = store;
    // Only a hint for next time: failing to write it does not fail the login.
    const remembered = rememberFlow(host.key, flow, { dir }).catch(() => {});
    try {
      await saveAccount(
        {
          host: host.key,
          login: name,
          clientId: options.clientId,
          ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
          token,
          createdAt: new Date().toISOString(),
          storage: backend.name,
          ...(host.issuer ? { issuer: true as const } : {}),
        },
        backend,
        { dir },
      );
    } finally {
      await remembered;
    }
    result.storedIn = backend.location;
    result.storage = backend.name;
    if (fallbackReason) result.keyringUnavailable = fallbackReason;
  }
  return result;
}
