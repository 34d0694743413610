/**
 * `loopauth login --no-wait`, `--resume ID [--code URL_OR_CODE]` and the
 * waiter they start (`login --waiter`, internal): a login in two steps for
 * programs that cannot wait at a prompt.
 * @module
 */
import { parseDuration } from "../core/duration.ts";
import { EXIT_CODES, LoopauthError } from "../core/errors.ts";
import { DEFAULT_TIMEOUT_MS } from "../flows/callback_server.ts";
import { runLoginWaiter, type WaiterJob } from "../ops/login_waiter.ts";
import { resumeLogin, startLogin, type StartLoginOptions } from "../ops/two_step_login.ts";
import { readTokenInput } from "../ops/token_login.ts";
import { checkLoginId, isLoginId } from "../store/pending_logins.ts";
import { portFlag, refuseFlags, writeResult } from "./command.ts";
import { reportLogin } from "./login_view.ts";

/** The flags `login` parsed, as far as the two steps read them. */
type LoginValues = Record<string, string | boolean | string[] | undefined>;

/** The login flags that make no sense with --resume (the login was started with them). */
const NOT_WITH_RESUME = [
  "hostname",
  "issuer",
  "client-id",
  "client-secret",
  "client-secret-file",
  "scopes",
  "storage",
  "no-wait",
  "with-token",
  "device",
  "web",
  "port",
  "timeout",
  "no-browser",
  "allow-no-pkce-metadata",
] as const;

/**
 * `login --no-wait`: starts the waiter and prints the login's id and what
 * the user must do (stdout: the id, or JSON with `--json`).
 *
 * @example
 * ```ts ignore
 * import { start } from "./login_two_step.ts";
 * await start({ json: true }, { clientId: "Iv1.abc" });
 * ```
 */
export async function start(
  values: LoginValues,
  options: Pick<
    StartLoginOptions,
    | "hostname"
    | "issuer"
    | "storage"
    | "clientId"
    | "user"
    | "clientSecret"
    | "redirectUri"
    | "prompt"
    | "loginHint"
    | "params"
    | "defaultScopes"
  >,
): Promise<number> {
  if (values.device && values.web) {
    throw new LoopauthError("usage", "Give --device or --web, not both: see loopauth help login");
  }
  if (values["with-token"]) {
    throw new LoopauthError("usage", "--no-wait takes no --with-token: a token needs no waiting");
  }
  const quiet = values.quiet === true;
  const pending = await startLogin({
    ...options,
    allowNoPkceMetadata: values["allow-no-pkce-metadata"] === true,
    scopes: typeof values.scopes === "string" ? values.scopes : undefined,
    port: portFlag(values as never),
    timeout: typeof values.timeout === "string"
      ? parseDuration(values.timeout)
      : DEFAULT_TIMEOUT_MS,
    flow: values.device ? "device" : values.web ? "web" : "both",
    openBrowser: values["no-browser"] !== true,
    onWarning: (message) => console.error(`Warning: ${message}`),
  });
  if (values.json) {
    const { id, url, userCode, verificationUri, expiresAt } = pending;
    writeResult(`${JSON.stringify({ id, url, userCode, verificationUri, expiresAt })}\n`);
    return 0;
  }
  if (!quiet) {
    if (pending.url) console.error(`Open this URL in a browser: ${pending.url}`);
    if (pending.userCode) {
      console.error(
        `${
          pending.url ? "Or enter" : "Enter"
        } the code ${pending.userCode} at ${pending.verificationUri} (only if you started this login)`,
      );
    }
    console.error(
      `The login waits in the background until ${pending.expiresAt}; then run: loopauth login --resume ${pending.id}`,
    );
  }
  writeResult(`${pending.id}\n`);
  return 0;
}

/**
 * `login --resume ID [--code URL_OR_CODE]`: waits for the login (or finishes
 * it by paste-back) and reports it as `login` does.
 *
 * @example
 * ```ts ignore
 * import { resume } from "./login_two_step.ts";
 * await resume({ resume: "0123456789abcdef" }, new AbortController().signal);
 * ```
 */
export async function resume(values: LoginValues, signal: AbortSignal): Promise<number> {
  const id = values.resume;
  if (typeof id !== "string") {
    throw new LoopauthError(
      "usage",
      "--code goes with --resume ID: loopauth login --resume ID --code URL_OR_CODE",
    );
  }
  refuseFlags(values, NOT_WITH_RESUME, {
    beside: "--resume",
    why: "the login goes on with the flags it was started with",
  });
  checkLoginId(id);
  // `--code -` reads it from stdin: every local user can read a program's arguments.
  const code = values.code === "-"
    ? await readTokenInput(Deno.stdin.readable)
    : typeof values.code === "string"
    ? values.code
    : undefined;
  const result = await resumeLogin(id, { code, signal });
  reportLogin(result, { json: values.json === true, quiet: values.quiet === true });
  return 0;
}

/**
 * `login --waiter` (internal): reads one job (JSON, with the client secret)
 * on stdin, says on stdout one JSON line once the routes are shown (or the
 * error that came first), then holds the login until it ends.
 *
 * @example
 * ```ts
 * import { runWaiter } from "./login_two_step.ts";
 * await runWaiter(new AbortController().signal);
 * ```
 */
export async function runWaiter(signal: AbortSignal): Promise<number> {
  const say = (message: unknown) => {
    try {
      writeResult(`${JSON.stringify(message)}\n`);
    } catch { /* whoever started it went away */ }
  };
  try {
    const job = parseJob(await readTokenInput(Deno.stdin.readable));
    await runLoginWaiter(job, { onReady: say, signal });
    return 0;
  } catch (error) {
    const known = error instanceof LoopauthError;
    say({
      error: {
        code: known ? error.code : "storage",
        message: error instanceof Error ? error.message : String(error),
      },
    });
    return known ? EXIT_CODES[error.code] : 1;
  }
}

/** The job the waiter was given, checked field by field. */
function parseJob(text: string): WaiterJob {
  const bad = () =>
    new LoopauthError("usage", "login --waiter is internal: it reads a job on stdin");
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text);
  } catch {
    throw bad();
  }
  const optional = (name: string) => data[name] === undefined || typeof data[name] === "string";
  if (
    typeof data !== "object" || data === null || typeof data.id !== "string" ||
    !isLoginId(data.id) || typeof data.clientId !== "string" ||
    typeof data.timeout !== "number" || !(data.timeout > 0) || !Array.isArray(data.flows) ||
    !data.flows.every((f) => f === "web" || f === "device") ||
    !["hostname", "issuer", "clientSecret", "scopes", "storage", "configDir"].every(optional) ||
    (data.port !== undefined && typeof data.port !== "number")
  ) throw bad();
  return data as unknown as WaiterJob;
}
