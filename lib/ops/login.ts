/**
 * `login`: the loopback flow, the device flow, or both at once, against
 * GitHub, GHES or an OAuth 2.0 / OpenID Connect issuer; then the user's name,
 * then the token is stored.
 * @module
 */
import { type App, appMessage, type AppOption, inApp, resolveApp } from "../core/app.ts";
import { asReason } from "../core/text.ts";
import { LoopauthError } from "../core/errors.ts";
import type { StorageName } from "../store/secrets.ts";
import type { DeviceCode, Flow, TokenSet } from "../core/types.ts";
import { loopbackFlow } from "../flows/loopback.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import type { Authorization, Provider, ProviderClient } from "../providers/provider.ts";
import { type HostRef, providerFor } from "../providers/registry.ts";
// The choice of flow, the device flow, the race of both and OpenID Connect
// load only when a login needs them (imported below where used).
import type { FlowChoice, FlowEnvironment } from "../flows/choose.ts";
import type { DeviceFlowOptions } from "../flows/device.ts";
import type { PasteBackOptions } from "../flows/paste_back.ts";
import { startWaiting, type Waiting, type WaitingStatus } from "../platform/status_line.ts";
import { type WaitingView, waitingView } from "../flows/waiting_view.ts";
import { DEFAULT_TIMEOUT_MS } from "../flows/callback_server.ts";
import type { RaceContext } from "../flows/race.ts";
import type { LoopbackRedirect } from "../flows/redirect_uri.ts";
import { rememberedFlow, rememberFlow } from "../store/flow_memory.ts";
import { saveAccount } from "../store/accounts.ts";
import { chooseStore, type ChosenStore } from "../store/secret_store.ts";
import { configDir } from "../store/paths.ts";
import { prepareConfigDir } from "../store/preflight.ts";
import { checkedOnce } from "../store/dir_safety.ts";
import { withLock, withLoginLock } from "../store/lock.ts";
import { openBrowser, type OpenResult } from "../platform/browser.ts";
import { sleep } from "../core/timers.ts";
import { parseRedirectUri } from "../flows/redirect_uri.ts";
import { checkOwned, checkPrompt, checkValue } from "../flows/authorization_params.ts";
import { loginApp } from "./login_app.ts";

/** Options of {@linkcode login}. */
export interface LoginOptions extends AppOption {
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
  /**
   * The OAuth App or GitHub App client id; empty: the one of the host's
   * stored account (with its secret, when stored).
   */
  clientId: string;
  /**
   * The stored account whose client id, secret and scopes a login reuses
   * when they are not given (default: the host's active account); the CLI
   * passes `LOOPAUTH_USER`.
   */
  user?: string;
  /** The app's client secret (GitHub requires it for the web flow). */
  clientSecret?: string;
  /**
   * Scopes, as a list or a comma/space-separated string; default: the
   * host's stored account's, else `defaultScopes`.
   */
  scopes?: string[] | string;
  /**
   * The scopes when neither `scopes` nor the host's stored account gives
   * any (default: none); the CLI passes `GITHUB_DEFAULT_SCOPES` for GitHub hosts.
   */
  defaultScopes?: readonly string[];
  /**
   * Asks for the client secret when the browser flow alone would run on a
   * GitHub host without one (the CLI: a hidden prompt on a terminal);
   * without it that is a `usage` error before anything starts.
   */
  askClientSecret?: () => Promise<string>;
  /** Fixed callback port (default: a free port from the OS). */
  port?: number;
  /**
   * The exact redirect URI the app's registration demands, e.g.
   * `http://localhost:8123/callback`: `http://` on `127.0.0.1`, `[::1]` or
   * `localhost`, a fixed port (or none: one from the OS) and a path; checked
   * before anything starts (`usage` error otherwise). The callback server
   * listens exactly there. Default `http://127.0.0.1:PORT/callback`.
   */
  redirectUri?: string;
  /** The authorization request's `prompt` (e.g. `login`, `consent`, `select_account`). */
  prompt?: string;
  /**
   * Which account to suggest: sent as `login` to GitHub and GHES (GitHub's
   * name for it), as `login_hint` to an issuer.
   */
  loginHint?: string;
  /**
   * More authorization request parameters (`audience`, `acr_values`, …). The
   * names loopauth owns (`state`, `code_challenge*`, `redirect_uri`,
   * `resource`, `client_id`, `response_type`, `response_mode`, `scope`,
   * `nonce`) are refused (`usage`) before anything starts. The browser flow
   * sends them; the device flow's request has no place for them (a warning
   * says so when it runs).
   */
  params?: Record<string, string>;
  /** Milliseconds to wait for the browser (default 5 minutes). */
  timeout?: number;
  /** Aborting stops the login, frees the port and stores nothing. */
  signal?: AbortSignal;
  /**
   * How to show the URL to the user: by default the CLI's view (the URL on
   * stderr, then the system browser at the one-time start URL; with
   * `onAuthorizationUrl` only the browser), `true` opens the system browser
   * at the start URL, `false` opens nothing, a function is
   * called with the authorization URL (to print) and the start URL (the only
   * one to pass to another program: every local user can read a program's
   * arguments, and the authorization URL's `state` lets them finish the login
   * with their own account).
   */
  openBrowser?: boolean | ((url: string, context: { startUrl: string }) => unknown);
  /** Called with the authorization URL as soon as it is known (print it here). */
  onAuthorizationUrl?: (url: string) => void;
  /** Where to store the account (default: the user's config directory). */
  configDir?: string;
  /** Store the token (default true). */
  store?: boolean;
  /**
   * Make the account its host's active one (default true); `false` keeps
   * the host's active account as it is (the first account still becomes
   * it), as the CLI does under `LOOPAUTH_USER`.
   */
  activate?: boolean;
  /**
   * Where to keep the secrets: `keyring` (an error if none works), `file`
   * (0600 `tokens.json`), `agent` (a running loopauth agent's memory) or
   * `encrypted` (`tokens.enc`, with a passphrase); by default the keyring
   * when one answers, else a running agent, else the file.
   */
  storage?: StorageName;
  /**
   * `auto` (default, as the CLI): decide from the environment (`environment`)
   * and what worked last time: the browser flow alone where a local browser
   * surely reaches 127.0.0.1, else every route at once; `web`: the loopback
   * flow; `device`: the device flow (no client secret needed); a list: race
   * exactly these routes (the first shown first).
   */
  flow?: "auto" | Flow | readonly Flow[];
  /** With `flow: "auto"`: called with the flows that will run and why (again on a fallback). */
  onFlowChosen?: (choice: FlowChoice) => void;
  /**
   * Called with the device code to show (see {@linkcode DeviceFlowOptions});
   * default: the CLI's lines on stderr (the code, the page, the caution).
   */
  onDeviceCode?: DeviceFlowOptions["onDeviceCode"];
  /** The browser's success page for the login (default: "Logged in to HOST as LOGIN"). */
  successPage?: (result: LoginResult) => { title: string; message: string };
  /** What `auto` decides from (default: this process's environment). */
  environment?: FlowEnvironment;
  /**
   * Also accept the address the browser ended up at (or the code), pasted
   * into `input`; `true` is the CLI's prompt exactly: stdin, the prompt and
   * refusals on stderr, only when stdin and stderr are terminals. Off by
   * default: it reads stdin, which is the app's (piped data of its own would
   * be taken as a paste).
   */
  pasteBack?: true | Pick<PasteBackOptions, "input" | "write">;
  /**
   * The status line while the login waits, once every route has shown
   * itself (default: the CLI's, {@linkcode startWaiting}: on a terminal a
   * spinner and the time left pinned to the bottom row, elsewhere one plain
   * line on stderr); `false` shows nothing; a function starts the app's own
   * and returns how to update and stop it.
   */
  progress?: false | ((status: WaitingStatus) => Waiting);
}

/** The result of a successful login. */
export interface LoginResult extends TokenSet {
  /** The host key the account is stored under. */
  host: string;
  /** The user's login name. */
  login: string;
  /** The credentials file, when the token was stored. */
  storedIn?: string;
  /** `keyring`, `file`, `agent` or `encrypted`, when the token was stored. */
  storage?: StorageName;
  /** Why the keyring was not used, when the file was picked automatically. */
  keyringUnavailable?: string;
  /** The flow that logged the user in. */
  flow: Flow;
  /**
   * Whether a browser opened at the start URL and, if not, why: set when
   * the login tried one (the default view, or `openBrowser: true`).
   */
  browser?: OpenResult;
}

/** Where a client secret can come from, as a message says it. */
const SECRET_SOURCES = "LOOPAUTH_CLIENT_SECRET, --client-secret-file PATH or --client-secret -";

/**
 * Splits a scope list given as `"read:user repo"` or `"read:user,repo"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseScopes } from "./login.ts";
 * assert.deepEqual(parseScopes("read:user,repo gist"), ["read:user", "repo", "gist"]);
 * ```
 */
export function parseScopes(scopes: string[] | string | undefined): string[] {
  const list = typeof scopes === "string" ? [scopes] : scopes ?? [];
  return [...new Set(list.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean))];
}

/**
 * Logs a user in and stores the token: through the browser with the loopback
 * flow (`flow: "web"`, the default), the device flow (`"device"`), or routes
 * raced where a local browser may not reach 127.0.0.1 (`"auto"`, a list).
 *
 * @throws {LoopauthError} `usage` for a bad option (before anything starts), `access_denied`,
 * `oauth` (with a `reason` where finer), `timeout`, `network`, `port_in_use`, `storage`,
 * `permission` or `cancelled` (`signal` aborted); nothing is stored then
 *
 * @example
 * ```ts ignore
 * import { login } from "./login.ts";
 * const result = await login({
 *   clientId: "Iv1.abc", clientSecret: "…", scopes: "read:user",
 *   onAuthorizationUrl: (url) => console.error(url),
 * });
 * console.log(`Logged in to ${result.host} as ${result.login}`);
 * ```
 */
export async function login(asked: LoginOptions): Promise<LoginResult> {
  const app = resolveApp(asked.app);
  return await inApp(app, () => loginAs({ ...asked, app }));
}

/** {@linkcode login} for an app resolved once. */
async function loginAs(asked: LoginOptions & { app: App }): Promise<LoginResult> {
  // A stored login checks its config directory once: its reads (the stored app), its
  // preflight and its lock rely on that check. A directory that cannot be named is said later.
  let dir: string | undefined;
  try {
    if (asked.store ?? true) dir = asked.configDir ?? configDir({ app: asked.app });
  } catch { /* the preflight says why */ }
  return dir === undefined
    ? await loginResolved(asked)
    : await checkedOnce(dir, () => loginResolved(asked));
}

/** {@linkcode login} for an app resolved once, its config directory in scope. */
async function loginResolved(asked: LoginOptions & { app: App }): Promise<LoginResult> {
  // The host, resolved once for the whole login.
  const ref: HostRef = asked.issuer === undefined
    ? resolveGitHubHost(asked.hostname)
    : { key: asked.issuer, issuer: true };
  // A host already used needs no --client-id, and a plain login keeps the account's scopes.
  const options: LoginOptions = {
    ...asked,
    ...await loginApp({ ...asked, hostKey: ref.key, stored: asked.store ?? true }),
  };
  return await loginWith(options, {
    issuer: "issuer" in ref,
    provider: () =>
      providerFor(ref, {
        signal: options.signal,
        allowNoPkceMetadata: options.allowNoPkceMetadata,
        onWarning: appViews(options).onWarning,
      }),
  });
}

/**
 * The warnings and route reasons a login tells an app's callbacks, as the
 * app says them ({@linkcode appMessage}: its command, its words for the
 * CLI's flags, no hint it cannot run).
 */
function appViews(
  { app: ref, onWarning, onFlowChosen }: LoginOptions,
): Pick<LoginOptions, "onWarning" | "onFlowChosen"> {
  const app = resolveApp(ref);
  return {
    ...(onWarning ? { onWarning: (message) => onWarning(appMessage(app, message)) } : {}),
    ...(onFlowChosen
      ? {
        onFlowChosen: (choice) =>
          onFlowChosen({ ...choice, reason: appMessage(app, choice.reason) }),
      }
      : {}),
  };
}

/** Where {@linkcode loginWith} logs in: a provider made once the options are checked. */
export interface LoginTarget {
  /** Whether the account is an issuer's or a resource's (`login_hint`, not GitHub's `login`). */
  issuer: boolean;
  /** The provider, made (discovered) once the options passed their checks. */
  provider: () => Promise<Provider>;
}

/**
 * {@linkcode login} with a provider of the caller's (a resource login's,
 * `ops/resource_login.ts`): the same checks, lock, routes and storage.
 *
 * @example
 * ```ts ignore
 * import { loginWith } from "./login.ts";
 * import { providerFor } from "../providers/registry.ts";
 * const result = await loginWith({ clientId: "my-cli", store: false }, {
 *   issuer: true,
 *   provider: () => providerFor({ key: "https://id.example.com", issuer: true }),
 * });
 * ```
 */
export async function loginWith(asked: LoginOptions, target: LoginTarget): Promise<LoginResult> {
  const options = { ...asked, ...appViews(asked) };
  // Checked before anything starts: a refused parameter costs no discovery, port or consent.
  const redirect = options.redirectUri === undefined
    ? undefined
    : parseRedirectUri(options.redirectUri);
  const userParams = requestParams(options, { issuer: target.issuer });
  if (
    options.flow === "device" && (redirect || Object.keys(userParams).length)
  ) {
    throw new LoopauthError(
      "usage",
      "--redirect-uri, --prompt, --login-hint and --param are for the browser flow; the device flow has no place for them: drop them or use --web",
    );
  }
  const provider = await target.provider();
  const client = {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    signal: options.signal,
  };
  // An issuer is discovered here, before anything else; its key is then the one it names.
  const authorization = await provider.authorize(client, parseScopes(options.scopes));
  const host = { key: provider.key, issuer: target.issuer };
  const stored = options.store ?? true;
  // A login that stores nothing needs no config directory (nor the variables naming it).
  const dir = options.configDir ?? (stored ? configDir({ app: resolveApp(options.app) }) : "");
  // Before any flow starts: an unusable config directory must not cost the user a consent.
  if (stored) prepareConfigDir(dir);
  // One login per host and config directory at a time: two at once would both
  // "succeed" and the last would silently replace the first.
  const prepared = { provider, authorization, redirect, userParams, client, host, dir };
  return stored
    ? await withLoginLock(
      dir,
      host.key,
      () => loginPrepared(options, prepared),
    )
    : await loginPrepared(options, prepared);
}

/** What {@linkcode login} settled before a flow starts. */
interface Prepared {
  provider: Provider;
  authorization: Authorization;
  redirect?: LoopbackRedirect;
  userParams: Record<string, string>;
  client: ProviderClient;
  host: { key: string; issuer: boolean };
  dir: string;
}

/** The storage, the flows and the account: a login once its request is settled. */
async function loginPrepared(
  options: LoginOptions,
  { provider, authorization, redirect, userParams, client, host, dir }: Prepared,
): Promise<LoginResult> {
  // Chosen before any flow starts, so a missing keyring costs the user nothing.
  const chosen = (options.store ?? true)
    ? await chooseStore(options.storage, { dir, app: resolveApp(options.app) })
    : undefined;
  const session: Session = {
    provider,
    authorization,
    redirect,
    userParams,
    client,
    issuer: host.issuer,
    options,
    dir,
    chosen,
  };
  const flow = options.flow ?? "auto";
  const choice = flow === "auto"
    ? await (await import("../flows/choose.ts")).chooseFlow({
      remembered: chosen
        ? await rememberedFlow(host.key, { dir }).catch(() => undefined)
        : undefined,
      host: host.key,
      environment: options.environment,
    })
    : { flows: typeof flow === "string" ? [flow] : [...flow], reason: "it was chosen explicitly" };
  // GitHub's web flow needs the app's secret (OAuth and GitHub Apps alike): said before a
  // browser opens; the device flow needs none, so in a race only the browser route goes.
  if (!host.issuer && !client.clientSecret && choice.flows.includes("web")) {
    if (choice.flows.length > 1) {
      choice.flows = choice.flows.filter((f) => f !== "web");
      choice.reason = `the browser flow needs the app's client secret (${SECRET_SOURCES})`;
      if (flow !== "auto") options.onFlowChosen?.(choice);
    } else if (options.askClientSecret) {
      client.clientSecret = options.clientSecret = await options.askClientSecret();
    } else {
      throw new LoopauthError(
        "usage",
        `The browser flow on ${host.key} needs the app's client secret: give it with ${SECRET_SOURCES}, or log in with --device, which needs none`,
      );
    }
  }
  if (flow === "auto") options.onFlowChosen?.(choice);
  // The status line, once every route has shown itself (the CLI's by default).
  const progress = options.progress === false ? undefined : waitingView({
    timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
    start: options.progress ?? startWaiting,
  });
  progress?.expect(choice.flows);
  try {
    return await runRoutes(options, { session, choice, progress, hostKey: host.key });
  } finally {
    progress?.stop();
  }
}

/** The routes of a login, one alone or raced, each shown in its turn. */
async function runRoutes(
  options: LoginOptions,
  { session, choice, progress, hostKey }: {
    session: Session;
    choice: FlowChoice;
    progress?: WaitingView;
    hostKey: string;
  },
): Promise<LoginResult> {
  const { userParams } = session;
  const given = Object.keys(userParams);
  if (given.length && choice.flows.includes("device")) {
    options.onWarning?.(
      `the device flow does not send ${
        given.join(", ")
      } (its request has no place for them); the browser flow does`,
    );
  }
  // In a race each route shows itself after the one before it (the remembered flow first).
  const turns = inTurn(choice.flows.length);
  const shown = new Set<Flow>();
  const run = (name: Flow, race?: RaceContext) => {
    const turn = race ? turns[choice.flows.indexOf(name)] : undefined;
    const routeSession = {
      ...session,
      turn,
      onShown: (deadline?: number) => {
        shown.add(name);
        progress?.shown(name, deadline);
      },
    };
    return (name === "web" ? webLogin(routeSession, race) : deviceLogin(routeSession, race))
      .finally(() => turn?.done());
  };
  const unavailable = (error: unknown) =>
    error instanceof LoopauthError && error.reason === "device_unavailable";
  let running = choice.flows;
  // A route that drops out is said in one line, with the routes that go on.
  const dropOut = (name: Flow, error: unknown) => {
    running = running.filter((f) => f !== name);
    const reason = unavailable(error)
      ? `the device flow is not available for this app on ${hostKey}`
      : `the ${name === "web" ? "browser" : "device"} flow stopped (${asReason(error)})`;
    progress?.expect(running);
    options.onFlowChosen?.({ flows: running, reason });
  };
  if (choice.flows.length === 1) return await run(choice.flows[0]);
  const { raceFlows } = await import("../flows/race.ts");
  const { value } = await raceFlows<LoginResult>(
    Object.fromEntries(choice.flows.map((name) => [name, (race: RaceContext) => run(name, race)])),
    {
      signal: options.signal,
      // A route that could not even show itself (its endpoint failed) leaves the others
      // waiting: in this race no single route may strand the user.
      // An access_denied callback (or a second use of the start URL) may come from another
      // local user who read the browser's URL: it ends the browser route, not the device route.
      // An error about what every route shares (the host, the client, --port) ends them all.
      dropsOut: (error, name) =>
        !endsEveryRoute(error, name as Flow) &&
        (unavailable(error) || (error instanceof LoopauthError && error.code === "timeout") ||
          (name === "web" && error instanceof LoopauthError && error.code === "access_denied") ||
          !shown.has(name as Flow)),
      onDropOut: (name, error) => dropOut(name as Flow, error),
    },
  );
  return value;
}

/** OAuth errors that say the client id itself is unknown (no route can use it). */
const UNKNOWN_CLIENT = new Set(["incorrect_client_credentials", "invalid_client"]);

/**
 * Whether a route's error ends every route of a race, not only its own: no
 * answer at all from the host (unreachable, refused, TLS, timed out: the
 * browser flow's code exchange goes to that host too), a client id the host
 * does not know (the device flow sends no secret, so only the id can be
 * wrong), or a `--port` that is taken. An error that is only the route's own
 * (an HTTP error of one endpoint, no device flow for the app, a timeout)
 * leaves the others waiting.
 */
function endsEveryRoute(error: unknown, name: Flow): boolean {
  if (!(error instanceof LoopauthError)) return false;
  if (error.code === "port_in_use") return true;
  // No HTTP answer: `networkError` (core/http.ts) keeps the failed fetch as its cause.
  if (
    error.code === "network" && error.status === undefined && error.cause instanceof Error &&
    !(error.cause instanceof LoopauthError)
  ) return true;
  return name === "device" && error.oauthError !== undefined &&
    UNKNOWN_CLIENT.has(error.oauthError);
}

/**
 * The user's authorization request parameters, checked: `prompt`, the login
 * hint (GitHub's `login`, an issuer's `login_hint`) and `params`.
 */
function requestParams(
  options: Pick<LoginOptions, "prompt" | "loginHint" | "params" | "redirectUri" | "port">,
  host: { issuer: boolean },
): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.params ?? {})) {
    checkOwned(name);
    params[name] = checkValue(value, `--param ${name}`);
  }
  const hint = host.issuer ? "login_hint" : "login";
  const flags = [
    ["prompt", "--prompt", options.prompt === undefined ? undefined : checkPrompt(options.prompt)],
    [
      hint,
      "--login-hint",
      options.loginHint === undefined ? undefined : checkValue(options.loginHint, "--login-hint"),
    ],
  ] as const;
  for (const [name, flag, value] of flags) {
    if (value === undefined) continue;
    if (Object.hasOwn(params, name)) {
      throw new LoopauthError("usage", `Give ${flag} or --param ${name}=…, not both`);
    }
    params[name] = value;
  }
  if (options.redirectUri !== undefined && options.port !== undefined) {
    const { port } = parseRedirectUri(options.redirectUri);
    if (port !== undefined && port !== options.port) {
      throw new LoopauthError(
        "usage",
        `--port ${options.port} differs from the port of --redirect-uri: give the port once`,
      );
    }
  }
  return params;
}

/** One login's settings, shared by its flows. */
interface Session {
  provider: Provider;
  /** The authorization request of this login (its scopes serve the device flow too). */
  authorization: Authorization;
  /** The redirect URI the registration demands, when given. */
  redirect?: LoopbackRedirect;
  /** The user's extra authorization request parameters (checked). */
  userParams: Record<string, string>;
  client: ProviderClient;
  /** Whether the account is an issuer's (stored as such). */
  issuer: boolean;
  options: LoginOptions;
  /** The config directory. */
  dir: string;
  /** Where the token goes; none when `store: false`. */
  chosen?: ChosenStore;
  /** In a race: when this route may show itself, and to say it has. */
  turn?: Turn;
  /** Called once the route has shown itself (its URL or code is out; a code's expiry). */
  onShown?: (deadline?: number) => void;
}

/** A route's place in the order the routes are shown. */
interface Turn {
  /**
   * Resolves when the routes before it have shown themselves (or ended), or
   * after {@linkcode TURN_WAIT_MS} at most; rejects when `signal` aborts.
   */
  wait: (signal?: AbortSignal) => Promise<void>;
  /** This route has shown itself, or ended. */
  done: () => void;
}

/** How long a route waits for the one before it to show itself (a slow device endpoint). */
const TURN_WAIT_MS = 1000;

/** `count` turns, each ready when the one before it is done. */
function inTurn(count: number): Turn[] {
  const turns: Turn[] = [];
  let before = Promise.resolve();
  for (let i = 0; i < count; i++) {
    const { promise, resolve } = Promise.withResolvers<void>();
    const previous = before;
    turns.push({
      wait: async (signal) => {
        const waited = new AbortController();
        const bound = signal ? AbortSignal.any([signal, waited.signal]) : waited.signal;
        await Promise.race([previous, sleep(TURN_WAIT_MS, { signal: bound }).catch(() => {})]);
        waited.abort();
        signal?.throwIfAborted();
      },
      done: resolve,
    });
    before = promise;
  }
  return turns;
}

/** The loopback flow; inside a race, it claims the login before the code exchange. */
async function webLogin(session: Session, race?: RaceContext): Promise<LoginResult> {
  const { provider, authorization, options, turn, redirect, userParams } = session;
  // Whether a browser opened, when loopauth tried one (for LoginResult.browser).
  let browser: OpenResult | undefined;
  // Nothing asked: the CLI's view (the URL on stderr, then the browser at the start URL).
  const open = options.openBrowser ??
    (options.onAuthorizationUrl
      ? true
      : (await import("../flows/show_url.ts")).showUrl(provider.key, {
        onOpened: (result) => browser = result,
      }));
  const signal = race?.signal ?? options.signal;
  const result = await loopbackFlow<LoginResult>({
    authorizationEndpoint: authorization.endpoint,
    clientId: options.clientId,
    scopes: authorization.scopes,
    issuer: authorization.expectedIss,
    // The provider's own (an OpenID Connect nonce) last: a user's value never replaces one.
    extraParams: { ...userParams, ...authorization.params },
    port: options.port,
    redirect,
    timeout: options.timeout,
    signal,
    pasteBack: options.pasteBack === true ? cliPasteBack() : options.pasteBack,
    onWarning: options.onWarning,
    onAuthorizationUrl: async (url, context) => {
      await turn?.wait(signal);
      options.onAuthorizationUrl?.(url);
      const opening = typeof open === "function"
        ? open(url, context)
        : open
        ? openBrowser(context.startUrl).then((result) => void (browser = result))
        : undefined;
      // Once the URL is out and the browser started, not to delay them.
      provider.warmUp?.();
      await opening;
      session.onShown?.();
      turn?.done();
    },
    complete: async (context) => {
      // Claimed once the code is redeemed, as the device route does once its
      // token came: a pasted typo the server refuses must not end the other routes.
      const { token, name } = await authorization.redeem(context, { signal });
      race?.claim();
      return await finish(session, { token, name, flow: "web" });
    },
    successPage: options.successPage ?? ((result) => ({
      title: `Logged in to ${result.host} as ${result.login}`,
      message: "You can close this tab and return to the terminal.",
    })),
    brand: resolveApp(options.app).title,
    pageText: (message) => appMessage(resolveApp(options.app), message),
  });
  return browser ? { ...result, browser } : result;
}

/**
 * `pasteBack: true`: the CLI's prompt, on stderr, reading stdin, when both
 * are a terminal (a pipe's data is not a paste).
 */
function cliPasteBack(): Pick<PasteBackOptions, "input" | "write"> | undefined {
  return Deno.stdin.isTerminal() && Deno.stderr.isTerminal()
    ? { input: Deno.stdin.readable, write: (line) => console.error(line) }
    : undefined;
}

/** The device flow; inside a race, it claims the login once the token came. */
async function deviceLogin(session: Session, race?: RaceContext): Promise<LoginResult> {
  const { provider, authorization, client, options } = session;
  const grant = await provider.device(client);
  if (!grant) {
    throw new LoopauthError(
      "oauth",
      `${provider.key} advertises no device_authorization_endpoint: log in with --web`,
      { reason: "device_unavailable" },
    );
  }
  const { deviceFlow } = await import("../flows/device.ts");
  const signal = race?.signal ?? options.signal;
  const token = await deviceFlow(grant, {
    scopes: authorization.scopes,
    signal,
    timeout: options.timeout,
    onWarning: options.onWarning,
    onDeviceCode: async (code, context) => {
      await session.turn?.wait(signal);
      const page = devicePage(code, provider, options.onWarning);
      if (options.onDeviceCode) await options.onDeviceCode(page, context);
      else {
        // Nothing asked: the CLI's view of the code on stderr.
        const { showDeviceCode } = await import("../flows/device_view.ts");
        if (signal?.aborted) return; // another route won meanwhile: nothing to enter any more
        await showDeviceCode(page, {
          host: provider.key,
          qr: false,
          noBrowser: options.openBrowser === false,
        });
      }
      session.onShown?.(context.expiresAt);
      session.turn?.done();
    },
  });
  race?.claim();
  const name = await provider.name(token, client);
  return await finish(session, { token, name, flow: "device" });
}

/**
 * The device code as it may be shown. Its page must be a web page, and
 * should be one of the host's own: a code entered anywhere else may log an
 * attacker in (device-code phishing). A page off the host's origin gets a
 * warning; a prefilled page off it is dropped (it would be opened and put
 * in the QR code).
 */
function devicePage(
  code: DeviceCode,
  host: Pick<Provider, "key" | "origins">,
  onWarning: LoginOptions["onWarning"],
): DeviceCode {
  for (const uri of [code.verificationUri, code.verificationUriComplete]) {
    if (uri !== undefined && !/^https?:$/.test(new URL(uri).protocol)) {
      throw new LoopauthError("network", `${host.key} named a device page that is not a web page`);
    }
  }
  const away = (uri: string) => !host.origins.includes(new URL(uri).origin);
  const page = new URL(code.verificationUri);
  if (away(page.href)) {
    onWarning?.(
      `the device page ${page.origin} is not on ${
        host.origins.join(" or ")
      }: enter the code only if you trust that page`,
    );
  }
  if (code.verificationUriComplete === undefined || !away(code.verificationUriComplete)) {
    return code;
  }
  onWarning?.(
    `the prefilled device page ${new URL(code.verificationUriComplete).origin} is not on ${
      host.origins.join(" or ")
    }: it is not opened`,
  );
  const { verificationUriComplete: _, ...shown } = code;
  return shown;
}

/** The token is stored under the user's name and the flow remembered. */
async function finish(
  { provider, issuer, options, dir, chosen }: Session,
  { token, name, flow }: { token: TokenSet; name: string; flow: Flow },
): Promise<LoginResult> {
  const host = { key: provider.key };
  const result: LoginResult = { ...token, host: host.key, login: name, flow };
  if (chosen) {
    const { store, fallbackReason } = chosen;
    // One hold of the lock for the account and the flow memory (saveAccount's own
    // withLock is re-entrant): no other process writes flows.json meanwhile.
    await withLock(dir, async () => {
      await saveAccount(
        {
          host: host.key,
          login: name,
          clientId: options.clientId,
          ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
          token,
          createdAt: new Date().toISOString(),
          storage: store.name,
          ...(issuer ? { issuer: true as const } : {}),
        },
        store,
        {
          dir,
          activate: options.activate,
          app: resolveApp(options.app),
          signal: options.signal,
        },
      );
      // Only a hint for next time: failing to write it does not fail the login.
      await rememberFlow(host.key, flow, { dir }).catch(() => {});
    }, { signal: options.signal });
    result.storedIn = store.location;
    result.storage = store.name;
    if (fallbackReason) result.keyringUnavailable = fallbackReason;
  }
  return result;
}
