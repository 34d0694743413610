/**
 * What `login` and `refresh` share on the terminal: the flags of a login's
 * routes, the URL, the device code and the waiting view, and the report of
 * where the token went.
 * @module
 */
import { parseDuration } from "../core/duration.ts";
import type { Flow } from "../core/types.ts";
import { LoopauthError } from "../core/errors.ts";
import type { FlowChoice } from "../flows/choose.ts";
import type { LoginOptions, LoginResult } from "../ops/login.ts";
import { type Flags, portFlag } from "./command.ts";
import type { Values } from "./parse_args.ts";
import { showUrl } from "./show_url.ts";
import { waitingView } from "./progress.ts";
import { DEFAULT_TIMEOUT_MS } from "../flows/callback_server.ts";

/** The flags of a login's routes and output (`login`, `refresh`). */
export const LOGIN_ROUTE_FLAGS = {
  "no-browser": { type: "boolean" },
  timeout: { type: "string" },
  port: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  json: { type: "boolean" },
  device: { type: "boolean" },
  web: { type: "boolean" },
  "no-qr": { type: "boolean" },
} as const satisfies Flags;

/** The parts of {@linkcode LoginOptions} that show a login on the terminal. */
export type LoginView =
  & Pick<
    LoginOptions,
    | "timeout"
    | "port"
    | "flow"
    | "onWarning"
    | "openBrowser"
    | "onFlowChosen"
    | "onDeviceCode"
    | "pasteBack"
  >
  & {
    /** Stops the spinner and countdown (call when the login ends, either way). */
    stop: () => void;
  };

/**
 * The terminal side of a login to `host` from the route flags: the routes,
 * the URL and the forwarding hint, the device code, paste-back on a
 * terminal, and the waiting view.
 *
 * @example
 * ```ts
 * import { loginView } from "./login_view.ts";
 * const view = loginView({ web: true, "no-browser": true }, { host: "github.com" });
 * view.stop();
 * ```
 */
export function loginView(
  values: Values<typeof LOGIN_ROUTE_FLAGS>,
  options: { host: string },
): LoginView {
  if (values.device && values.web) {
    throw new LoopauthError("usage", "Give --device or --web, not both: see loopauth help login");
  }
  const { host } = options;
  const quiet = values.quiet === true;
  const noBrowser = values["no-browser"] === true;
  const interactive = Deno.stdin.isTerminal() && Deno.stderr.isTerminal();
  const timeout = typeof values.timeout === "string"
    ? parseDuration(values.timeout)
    : DEFAULT_TIMEOUT_MS;
  const explicit: Flow | undefined = values.device ? "device" : values.web ? "web" : undefined;
  let choice: FlowChoice | undefined;
  const view = waitingView({ quiet, timeout, flows: explicit ? [explicit] : [] });
  const show = showUrl(host, {
    noBrowser,
    quiet,
    onShown: (url) => {
      const port = new URL(new URL(url).searchParams.get("redirect_uri") ?? url).port;
      if (choice?.forwardCommand && port) {
        console.error(
          `From another machine, first forward the callback port: ${
            choice.forwardCommand(Number(port))
          }`,
        );
      }
    },
  });
  return {
    timeout,
    port: portFlag(values),
    flow: explicit ?? "auto",
    onWarning: (message) => console.error(`Warning: ${message}`),
    openBrowser: async (url, context) => {
      await show(url, context);
      view.shown("web");
    },
    onFlowChosen: (chosen) => {
      choice = chosen;
      view.expect(chosen.flows);
      const names = chosen.flows.flatMap((f) =>
        f === "device"
          ? ["the device flow"]
          : interactive
          ? ["the browser flow", "paste-back"]
          : ["the browser flow"]
      );
      const list = names.length > 1
        ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`
        : names[0];
      if (!quiet) console.error(`Logging in with ${list}: ${chosen.reason}`);
    },
    onDeviceCode: async (code, { expiresAt }) => {
      const { showDeviceCode } = await import("./device_view.ts"); // only for the device flow
      await showDeviceCode(code, { host, qr: values["no-qr"] !== true, noBrowser });
      view.shown("device", expiresAt);
    },
    ...(interactive ? { pasteBack: { input: Deno.stdin.readable, write: console.error } } : {}),
    stop: () => view.stop(),
  };
}

/**
 * Reports a login: where the token went (a plain-text file is a warning on
 * stderr, even with `--quiet` or `--json`), then `Logged in to HOST as
 * LOGIN`, or with `json` the result as JSON (never the token; `expiresAt`
 * is `null` for a token that does not expire).
 *
 * @example
 * ```ts
 * import { reportLogin } from "./login_view.ts";
 * reportLogin({
 *   host: "github.com", login: "octocat", tokenType: "bearer",
 *   scopes: [], flow: "web", storage: "keyring", storedIn: "the Secret Service keyring",
 * }, { json: true });
 * ```
 */
export function reportLogin(
  result: Omit<LoginResult, "flow" | "accessToken" | "refreshToken"> & {
    flow?: LoginResult["flow"] | "token";
  },
  options: { json?: boolean; quiet?: boolean; verb?: string } = {},
): void {
  if (result.storage === "file") {
    // A warning, so it shows even with --quiet; chosen automatically, it names the way out.
    const why = result.keyringUnavailable
      ? ` (no OS keyring: ${result.keyringUnavailable}; no loopauth agent: run loopauth agent start and log in again to keep it in memory)`
      : "";
    console.error(`Warning: token stored in plain text at ${result.storedIn} (mode 0600)${why}`);
  } else if (result.storedIn && !options.quiet && !options.json) {
    const why = result.keyringUnavailable ? ` (no OS keyring: ${result.keyringUnavailable})` : "";
    console.error(`Token stored in ${result.storedIn}${why}`);
  }
  if (options.json) {
    const { host, login, scopes, tokenType, expiresAt, storage, storedIn, flow } = result;
    console.log(
      JSON.stringify({
        host,
        login,
        scopes,
        tokenType,
        expiresAt: expiresAt ?? null,
        storage,
        storedIn,
        flow,
      }),
    );
    return;
  }
  console.log(`${options.verb ?? "Logged in to"} ${result.host} as ${result.login}`);
}
