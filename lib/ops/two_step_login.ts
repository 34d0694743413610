/**
 * A login in two steps, for programs (coding agents, CI jobs) that cannot
 * wait at a prompt: {@linkcode startLogin} returns at once with what the
 * user must do (the URL, the device code) and leaves a small background
 * waiter holding the login (`ops/login_waiter.ts`); {@linkcode resumeLogin}
 * waits for it, or finishes it with the address the browser ended up at.
 * @module
 */
import { parseJsonObject } from "../core/json.ts";
import { loginApp } from "./login_app.ts";
import { firstLine } from "../core/first_line.ts";
import { formatDuration } from "../core/duration.ts";
import { EXIT_CODES, LoopauthError } from "../core/errors.ts";
import type { Flow } from "../core/types.ts";
import { within } from "../core/timers.ts";
import { DEFAULT_TIMEOUT_MS } from "../flows/callback_server.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import { agentDir, agentSocketPath, defaultAgentSocket } from "../store/agent_paths.ts";
import { encodeMessage, readMessage } from "../store/agent_protocol.ts";
import {
  newLoginId,
  pendingLoginPath,
  pendingLoginsDir,
  readPendingLogin,
  removePendingLogin,
} from "../store/pending_logins.ts";
import { configDir as defaultConfigDir } from "../store/paths.ts";
import {
  type App,
  appEnvName,
  appEnvVars,
  type AppOption,
  inApp,
  LOOPAUTH_APP,
  resolveApp,
} from "../core/app.ts";
import { openBrowser } from "../platform/browser.ts";
import { childEnvironment, WAITER_ENV_VARS } from "../platform/child_env.ts";
import { inheritedFlags } from "../platform/child_permissions.ts";
import { loopbackListener } from "../platform/socket_owner.ts";
import type { LoginOptions, LoginResult } from "./login.ts";
import {
  RESULT_GRACE_MS,
  WAITER_PROTOCOL,
  type WaiterJob,
  type WaiterOutcome,
  type WaiterReady,
} from "./login_waiter.ts";

/** How long {@linkcode startLogin} waits for the waiter to show the routes. */
const START_TIMEOUT_MS = 60_000;

/** Options of {@linkcode startLogin}. */
export interface StartLoginOptions extends
  AppOption,
  Pick<
    LoginOptions,
    | "hostname"
    | "issuer"
    | "allowNoPkceMetadata"
    | "clientId"
    | "user"
    | "clientSecret"
    | "port"
    | "timeout"
    | "storage"
    | "configDir"
    | "onWarning"
    | "redirectUri"
    | "prompt"
    | "loginHint"
    | "params"
    | "defaultScopes"
  > {
  /** Scopes, as a list or a comma/space-separated string. */
  scopes?: string[] | string;
  /**
   * `both` (default): the browser URL and, where the host offers it, the
   * device code, the first to finish wins; `web` or `device`: that one only.
   */
  flow?: "both" | Flow;
  /**
   * Open the system browser at the one-time start URL (default `true`). The
   * waiter itself opens nothing: it has no display in its environment.
   */
  openBrowser?: boolean;
  /**
   * The command that runs the waiter (reads a job on stdin). Default: this
   * binary's `login --waiter` when compiled, else `deno run` of loopauth's
   * `main.ts` with the permissions this process has that it needs.
   */
  waiterCommand?: string[];
}

/** What {@linkcode startLogin} returns: what the user must do. Never a secret of the login but the user code. */
export interface PendingLoginInfo {
  /** The id to resume the login with. */
  id: string;
  /** The authorization URL to open (the provider's; absent with `flow: "device"`). */
  url?: string;
  /** The device code to enter, when the host offers the device flow. */
  userCode?: string;
  /** Where to enter it. */
  verificationUri?: string;
  /** The device page with the code filled in, when the host names one. */
  verificationUriComplete?: string;
  /** ISO time the login gives up. */
  expiresAt: string;
}

/** What a resumed login ended with: the account, never the token. */
export type ResumedLogin = Omit<LoginResult, "accessToken" | "refreshToken">;

/** Options of {@linkcode resumeLogin}. */
export interface ResumeLoginOptions extends AppOption {
  /** Finish by paste-back: the address the browser ended up at, or the code alone. */
  code?: string;
  /** The config directory the login was started with (default: the user's). */
  configDir?: string;
  /** Aborting stops waiting (the login itself goes on in the background). */
  signal?: AbortSignal;
}

/**
 * Starts a login in the background and returns at once with its id and
 * what the user must do. The waiter holds the callback port and the device
 * poll until the login ends (then it stores the token, as
 * {@linkcode login} does), its timeout passes, or it is resumed.
 *
 * @throws {LoopauthError} `usage` for a bad option, `network`, `oauth`, `port_in_use`, `storage` or
 * `permission` when the login cannot start
 *
 * @example
 * ```ts ignore
 * import { resumeLogin, startLogin } from "./two_step_login.ts";
 * const pending = await startLogin({ clientId: "Iv1.abc", clientSecret: "…", openBrowser: false });
 * console.error(`Open ${pending.url}${pending.userCode ? ` or enter ${pending.userCode}` : ""}`);
 * const { login } = await resumeLogin(pending.id);
 * console.log(`Logged in as ${login}`);
 * ```
 */
export async function startLogin(options: StartLoginOptions): Promise<PendingLoginInfo> {
  const app = resolveApp(options.app);
  return await inApp(app, () => startLoginAs({ ...options, app }, app));
}

/** {@linkcode startLogin} for an app resolved once. */
async function startLoginAs(options: StartLoginOptions, app: App): Promise<PendingLoginInfo> {
  if (app.secrets) {
    throw new LoopauthError(
      "usage",
      "A two-step login finishes in a waiter process, which an app's own secrets store cannot reach: log in with login() instead",
    );
  }
  const dir = options.configDir ?? defaultConfigDir({ app });
  // As a login in one step: a host already used needs no --client-id and keeps its scopes.
  options = { ...options, ...await loginApp({ ...options, configDir: dir }) };
  const flow = options.flow ?? "both";
  const job: WaiterJob = {
    id: newLoginId(),
    hostname: options.hostname,
    issuer: options.issuer,
    allowNoPkceMetadata: options.allowNoPkceMetadata,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    scopes: Array.isArray(options.scopes) ? options.scopes.join(" ") : options.scopes,
    storage: options.storage,
    port: options.port,
    timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
    flows: flow === "both" ? ["web", "device"] : [flow],
    configDir: dir,
    redirectUri: options.redirectUri,
    prompt: options.prompt,
    loginHint: options.loginHint,
    params: options.params,
    ...(app === LOOPAUTH_APP ? {} : {
      app: {
        name: app.name,
        command: app.command,
        envPrefix: app.envPrefix,
        title: app.title,
        ...(app.words ? { words: app.words } : {}),
      },
    }),
  };
  const command = options.waiterCommand ?? waiterCommand(job, dir, app);
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: "/",
    // The client secret goes on stdin, never in arguments or the environment.
    clearEnv: true,
    env: childEnvironment(WAITER_ENV_VARS.map((name) => appEnvName(app, name))),
    detached: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encodeMessage(job)).catch(() => {});
  await writer.close().catch(() => {});
  const stdout = firstLine(child.stdout);
  const stderr = new Response(child.stderr).text();
  const line = await within(
    Promise.race([stdout, child.status.then(() => undefined)]),
    START_TIMEOUT_MS,
  );
  const ready = parseReady(line);
  if (ready && !ready.error && ready.id === job.id) {
    child.unref();
    stderr.catch(() => {});
    for (const warning of ready.warnings ?? []) options.onWarning?.(warning);
    if ((options.openBrowser ?? true) && ready.startUrl) {
      const opened = await openBrowser(ready.startUrl).catch((error) => ({
        opened: false,
        error: error instanceof Error ? error.message : String(error),
      }));
      if (!opened.opened) {
        options.onWarning?.("could not open a browser: open the URL yourself");
      }
    }
    const { url, userCode, verificationUri, verificationUriComplete, expiresAt } = ready;
    return {
      id: job.id,
      ...(url ? { url } : {}),
      ...(userCode ? { userCode, verificationUri, verificationUriComplete } : {}),
      expiresAt,
    } as PendingLoginInfo;
  }
  try {
    child.kill("SIGTERM");
  } catch { /* it has ended */ }
  if (ready?.error) {
    throw new LoopauthError(ready.error.code as LoopauthError["code"], ready.error.message);
  }
  // loopauth's own one line, or Deno's (a module it could not load).
  const reason = (await within(stderr, 2000))?.split("\n").find((l) => /^(Error|error): /.test(l));
  throw new LoopauthError(
    "storage",
    reason
      ? `The two-step login did not start: ${reason.slice("Error: ".length)}`
      : `The two-step login did not start within ${formatDuration(START_TIMEOUT_MS)}`,
  );
}

/**
 * Waits for a login {@linkcode startLogin} started, or with `code` finishes
 * it by paste-back; resolves with the account it stored, rejects with the
 * error a login in one step would have ended with (the same `code`). A
 * pasted address that is refused rejects with a `usage` error, and the
 * login goes on waiting.
 *
 * @throws {LoopauthError} `usage` when no waiter holds that id or a pasted code is refused; else
 * the error the login ended with (as {@linkcode login} throws)
 *
 * @example
 * ```ts ignore
 * import { resumeLogin } from "./two_step_login.ts";
 * const result = await resumeLogin("0123456789abcdef", {
 *   code: "http://127.0.0.1:40000/callback?code=…&state=…",
 * });
 * console.log(`Logged in to ${result.host} as ${result.login}`);
 * ```
 */
export async function resumeLogin(
  id: string,
  options: ResumeLoginOptions = {},
): Promise<ResumedLogin> {
  const app = resolveApp(options.app);
  return await inApp(app, () => resumeLoginAs(id, options, app));
}

/** {@linkcode resumeLogin} for an app resolved once. */
async function resumeLoginAs(
  id: string,
  options: ResumeLoginOptions,
  app: App,
): Promise<ResumedLogin> {
  const dir = options.configDir ?? defaultConfigDir({ app });
  const pending = await readPendingLogin(dir, id);
  const gone = () =>
    new LoopauthError(
      "usage",
      `No login ${id} is waiting: it ended or expired (see loopauth status), or it was started by another user or with another config directory`,
    );
  if (!pending) throw gone();
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port: pending.port });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    // The waiter was killed: its state file is stale.
    await removePendingLogin(dir, id, pending.key);
    throw gone();
  }
  const stop = () => {
    try {
      conn.close();
    } catch { /* closed */ }
  };
  // A dead waiter's port may have been taken by another user: tell it neither key nor code.
  // Judged by the listening socket: the accepted one is listed without its owner until
  // the waiter accepts it, which a busy machine may not have done yet.
  if (await loopbackListener(pending.port) === "foreign") {
    stop();
    throw new LoopauthError(
      "storage",
      `Refusing to resume login ${id}: port ${pending.port} on 127.0.0.1 is held by another user's process, not its waiter`,
    );
  }
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    await conn.write(encodeMessage({
      v: WAITER_PROTOCOL,
      key: pending.key,
      ...(options.code === undefined ? { op: "wait" } : { op: "code", input: options.code }),
    }));
    // The waiter answers when the login ends: at its timeout and grace at the latest.
    const bound = Date.parse(pending.expiresAt) - Date.now() + RESULT_GRACE_MS + 10_000;
    const answer = await within(readMessage(conn), Math.max(bound, 10_000));
    options.signal?.throwIfAborted();
    if (answer === undefined) throw gone();
    if (answer.ok !== true) {
      throw new LoopauthError(
        "storage",
        `The waiter of login ${id} refused the request (${
          String(answer.error).slice(0, 100)
        }): its state file ${pendingLoginPath(dir, id)} is not its own`,
      );
    }
    const outcome = answer.outcome as WaiterOutcome;
    if (outcome?.ok === true) return outcome.result;
    if (outcome?.ok === false) {
      throw new LoopauthError(
        (outcome.error.code in EXIT_CODES ? outcome.error.code : "oauth") as LoopauthError["code"],
        outcome.error.message,
      );
    }
    throw gone();
  } catch (error) {
    if (options.signal?.aborted) throw new LoopauthError("cancelled", "Login cancelled");
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", stop);
    stop();
  }
}

/** This binary's `login --waiter`, or `deno run` of main.ts with what this process may do. */
function waiterCommand(job: WaiterJob, dir: string, app: App): string[] {
  const args = ["login", "--waiter"];
  if (Deno.build.standalone) return [Deno.execPath(), ...args];
  const hosts = job.issuer !== undefined ? [new URL(job.issuer).host] : (() => {
    const host = resolveGitHubHost(job.hostname);
    return [new URL(host.origin).host, new URL(host.apiUrl).host];
  })();
  const sockets = [agentSocketPath({ app }), defaultAgentSocket({ app })];
  const runtime = sockets.map((socket) => agentDir(socket));
  const passphraseVar = appEnvName(app, "LOOPAUTH_PASSPHRASE_FILE");
  const passphrase = childEnvironment([passphraseVar])[passphraseVar];
  const bus = /^unix:path=([^,;]+)/.exec(
    childEnvironment(["DBUS_SESSION_BUS_ADDRESS"]).DBUS_SESSION_BUS_ADDRESS ?? "",
  )?.[1];
  const extra = [...(passphrase ? [passphrase] : []), ...(bus ? [bus] : [])];
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-config",
    ...inheritedFlags({
      net: [
        "127.0.0.1",
        ...hosts,
        ...sockets.map((s) => `unix:${s}`),
        ...extra.map((s) => `unix:${s}`),
      ],
      read: [dir, pendingLoginsDir(dir), ...runtime, ...extra],
      write: [dir, ...runtime, ...extra],
      env: appEnvVars(app),
      run: ["grep", "cat", "secret-tool", "security"],
    }),
    // Run from a URL: its modules come from the same host.
    ...(/^https?:$/.test(new URL(import.meta.url).protocol)
      ? [`--allow-import=${new URL(import.meta.url).host}`]
      : []),
    new URL("../../main.ts", import.meta.url).href,
    ...args,
  ];
}

/** The waiter's first line: what it shows, or the error that came first; `undefined` for anything else. */
function parseReady(
  line: string | undefined,
):
  | (WaiterReady & { error?: undefined })
  | { error: { code: string; message: string } }
  | undefined {
  // Checked field by field where used.
  return parseJsonObject(line ?? "") as WaiterReady | { error: { code: string; message: string } };
}
