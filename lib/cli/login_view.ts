/**
 * What `login` and `refresh` share on the terminal: the flags of a login's
 * routes, the URL, the device code and the waiting view, and the report of
 * where the token went.
 * @module
 */
import { parseDuration } from "../core/duration.ts";
import type { Flow } from "../core/types.ts";
import { LoopauthError } from "../core/errors.ts";
import { readEnvVar } from "../core/env_vars.ts";
import type { FlowChoice } from "../flows/choose.ts";
import type { LoginOptions, LoginResult } from "../ops/login.ts";
import { type Flags, portFlag } from "./command.ts";
import type { Values } from "./parse_args.ts";
import { showUrl } from "../flows/show_url.ts";
import { startWaiting } from "../platform/status_line.ts";
import { DEFAULT_TIMEOUT_MS } from "../flows/callback_server.ts";

/** The flags of a login's routes and output (`login`, `refresh`). */
export const LOGIN_ROUTE_FLAGS = {
  "no-browser": { type: "boolean", description: "open nothing (the URL is still printed)" },
  timeout: {
    type: "string",
    value: "DURATION",
    description: "how long to wait for the browser, e.g. 90s or 10m (default 5m)",
  },
  port: {
    type: "string",
    value: "N",
    description: "listen on this port instead of one from the OS",
  },
  quiet: { type: "boolean", short: "q", description: "print only the URL and errors on stderr" },
  json: {
    type: "boolean",
    description: "print the result as JSON on stdout (never the token)",
  },
  device: {
    type: "boolean",
    description:
      "use only the device flow (no client secret needed; the app must have Enable Device Flow ticked)",
  },
  web: { type: "boolean", description: "use only the browser (loopback) flow" },
  "no-qr": { type: "boolean", description: "no QR code of the device page" },
} as const satisfies Flags;

/** The parts of {@linkcode LoginOptions} that show a login on the terminal. */
export type LoginView = Pick<
  LoginOptions,
  | "timeout"
  | "port"
  | "flow"
  | "onWarning"
  | "openBrowser"
  | "onFlowChosen"
  | "onDeviceCode"
  | "pasteBack"
  | "progress"
>;

/**
 * The terminal side of a login to `host` from the route flags: the routes,
 * the URL and the forwarding hint, the device code, paste-back on a
 * terminal, and the status line (the library's, with the QR code drawn
 * just before it starts).
 *
 * @example
 * ```ts
 * import { loginView } from "./login_view.ts";
 * const view = loginView({ web: true, "no-browser": true }, { host: "github.com" });
 * console.log(view.flow); // web
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
  const screen = screenRows();
  const say = screen.say;
  let qr: string | undefined;
  const show = showUrl(host, {
    noBrowser,
    quiet,
    write: say,
    onShown: (url) => {
      const port = new URL(new URL(url).searchParams.get("redirect_uri") ?? url).port;
      if (choice?.forwardCommand && port) {
        say(
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
    onWarning: (message) => say(`Warning: ${message}`),
    openBrowser: show,
    onFlowChosen: (chosen) => {
      choice = chosen;
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
      if (!quiet) say(`Logging in with ${list}: ${chosen.reason}`);
    },
    onDeviceCode: async (code) => {
      const { showDeviceCode } = await import("../flows/device_view.ts"); // only for the device flow
      ({ qr } = await showDeviceCode(code, {
        host,
        qr: values["no-qr"] !== true,
        noBrowser,
        write: say,
      }));
    },
    ...(interactive ? { pasteBack: { input: Deno.stdin.readable, write: say } } : {}),
    // The library's status line; once every route has printed its lines, the QR code goes
    // below them first, if it fits.
    progress: quiet ? false : (status) => {
      if (qr !== undefined) drawQr(qr, { screen, reserve: interactive ? PASTE_PROMPT_ROWS : 0 });
      return startWaiting(status);
    },
  };
}

/**
 * Rows the paste-back prompt may still take below the QR code (it comes once
 * the status line runs): its hint, two rows at 80 columns, and the row the
 * user types on.
 */
const PASTE_PROMPT_ROWS = 3;

/** Lines written to stderr, and how many terminal rows they took. */
interface ScreenRows {
  /** Writes one line (or several) to stderr and counts its rows. */
  say: (text: string) => void;
  /** Rows written so far (0 when the size is unknown). */
  used: () => number;
  /** The terminal's size, `undefined` when stderr is not one. */
  size: () => { columns: number; rows: number } | undefined;
}

function screenRows(): ScreenRows {
  const size = () => {
    try {
      return Deno.stderr.isTerminal() ? Deno.consoleSize() : undefined;
    } catch {
      return undefined;
    }
  };
  let used = 0;
  return {
    say: (text) => {
      console.error(text);
      const columns = size()?.columns ?? 0;
      if (columns === 0) return;
      // One row per line at least; a longer line wraps (every character here is one column).
      // deno-lint-ignore no-control-regex
      const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
      for (const line of plain.split("\n")) {
        used += Math.max(1, Math.ceil([...line].length / columns));
      }
    },
    used: () => used,
    size,
  };
}

/**
 * Draws the QR code only when it fits whole below what is on the screen,
 * with the status row and `reserve` rows under it: half a QR code cannot be
 * scanned, and drawing it must not push the code or a URL off the top. Else
 * one line says how tall a terminal shows it.
 */
function drawQr(art: string, options: { screen: ScreenRows; reserve: number }): void {
  const { screen, reserve } = options;
  const rows = screen.size()?.rows;
  if (rows === undefined) return;
  const caption = "Or scan this with your phone to open the device page:";
  // The caption, the QR code, the status row and the rows kept for what comes after.
  const needed = screen.used() + 1 + art.split("\n").length + 1 + reserve;
  if (needed <= rows) {
    screen.say(`${caption}\n${art}`);
  } else {
    screen.say(`No room for the QR code of the device page: a terminal of ${needed} rows shows it`);
  }
}

/** `path` with the home directory written `~` (as a shell expands it back). */
function homeShort(path: string | undefined): string {
  const home = readEnvVar("HOME");
  if (path === undefined || !home || home === "/") return path ?? "";
  const prefix = home.endsWith("/") ? home : `${home}/`;
  return path.startsWith(prefix) ? `~/${path.slice(prefix.length)}` : path;
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
    // A warning, so it shows even with --quiet; one row of an 80-column terminal for the
    // default config directory (the path under $HOME as ~/…). Chosen automatically, a
    // second line names the way out, then why (not with --quiet or --json).
    console.error(`Warning: token in plain text (mode 0600) at ${homeShort(result.storedIn)}`);
    if (result.keyringUnavailable && !options.quiet && !options.json) {
      console.error(
        `Keep tokens in memory instead: run loopauth agent start and log in again (no OS keyring: ${result.keyringUnavailable})`,
      );
    }
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
