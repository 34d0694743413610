/**
 * An app: the one name that isolates a CLI built on the library from every
 * other one on the machine (the loopauth CLI is the app `loopauth`). It
 * picks the config directory, the keyring service (Secret Service attribute,
 * Keychain item), the agent's socket, the prefix of the environment
 * variables and the words of messages and pages. It is resolved once at the
 * library's edge and flows down as a value: no layer below reads a global
 * name.
 * @module
 */
import { ENV_VARS, readEnvVar } from "./env_vars.ts";
import { LoopauthError, permissionError } from "./errors.ts";

/**
 * Where an app keeps its accounts' secrets instead of the OS keyring, an
 * agent or a file: for its tests, `memorySecrets()` of `./testing`.
 */
export interface AppSecretStore {
  /** The secrets of an account, or `undefined`. */
  get(host: string, login: string): Promise<Record<string, unknown> | undefined>;
  /** Stores (replaces) the secrets of an account. */
  set(host: string, login: string, secrets: Record<string, unknown>): Promise<void>;
  /** Removes them; true when there were some. */
  delete(host: string, login: string): Promise<boolean>;
}

/** An app, as the library's entry points take it: a name, or the name and how to say it. */
export interface AppOptions {
  /**
   * The app's name: lower-case letters, digits and single hyphens, starting
   * with a letter (at most 39 characters): the config directory's and the
   * keyring service's name.
   */
  name: string;
  /** The command messages tell the user to run (default: the name). */
  command?: string;
  /** The environment variables' prefix (default: the name upper-cased, `-` as `_`). */
  envPrefix?: string;
  /** The title pages show in the browser tab and footer (default: the name). */
  title?: string;
  /**
   * Keep secrets here rather than in the keyring, an agent or a file (the
   * accounts' other data stays in the config directory): for tests.
   */
  secrets?: AppSecretStore;
  /**
   * The app's words for the loopauth CLI's in messages, e.g.
   * `{ "--storage file": "--plain-file", "--web": "--browser" }`: messages
   * name the CLI's flags, which an app may call otherwise or not have. A
   * hint naming a flag without a word here is left out
   * ({@linkcode appMessage}); a flag the app has as the CLI does maps to
   * itself (`"--hostname": "--hostname"`).
   */
  words?: Readonly<Record<string, string>>;
}

/** A resolved app: every name it goes by. */
export interface App {
  /** The name: config directory, keyring service, agent directory. */
  readonly name: string;
  /** What messages tell the user to run (`loopauth`, `ghstars`). */
  readonly command: string;
  /** The prefix of the variables the app reads instead of `LOOPAUTH_*` (`GHSTARS`). */
  readonly envPrefix: string;
  /** The pages' title and footer. */
  readonly title: string;
  /** Where its secrets are kept instead of the keyring, agent or file (tests). */
  readonly secrets?: AppSecretStore;
  /** Its words for the CLI's flags in messages. */
  readonly words?: Readonly<Record<string, string>>;
}

/** The loopauth CLI as an app: every name as it always was. */
export const LOOPAUTH_APP: App = Object.freeze({
  name: "loopauth",
  command: "loopauth",
  envPrefix: "LOOPAUTH",
  title: "loopauth",
});

/** What an entry point's `app` option takes: a name, {@linkcode AppOptions} or a resolved {@linkcode App}. */
export type AppRef = string | AppOptions | App;

/** The `app` option every library entry point takes. */
export interface AppOption {
  /**
   * The app this call is for (default `loopauth`, the CLI): its own config
   * directory, keyring service, agent, `PREFIX_*` variables, and its command
   * and title in messages and pages.
   */
  app?: AppRef;
}

const RESOLVED = new WeakSet<App>([LOOPAUTH_APP]);

const NAME = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/;
const PREFIX = /^[A-Z][A-Z0-9_]{0,39}$/;
const COMMAND = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$/;

/**
 * The app of an entry point's `app` option: {@linkcode LOOPAUTH_APP} when
 * none is given; a name or {@linkcode AppOptions} checked (`usage` error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveApp } from "./app.ts";
 * const app = resolveApp("gh-stars");
 * assert.equal(app.envPrefix, "GH_STARS");
 * assert.equal(resolveApp().name, "loopauth");
 * ```
 */
export function resolveApp(app?: AppRef): App {
  if (app === undefined) return LOOPAUTH_APP;
  if (typeof app === "object" && RESOLVED.has(app as App)) return app as App;
  const given: AppOptions = typeof app === "string" ? { name: app } : app;
  if (typeof given.name !== "string" || !NAME.test(given.name)) {
    throw new LoopauthError(
      "usage",
      "An app name is lower-case letters, digits and single hyphens, starting with a letter (at most 39 characters)",
    );
  }
  if (given.name === "loopauth" && typeof app === "string") return LOOPAUTH_APP;
  const envPrefix = given.envPrefix ?? given.name.toUpperCase().replaceAll("-", "_");
  if (!PREFIX.test(envPrefix)) {
    throw new LoopauthError(
      "usage",
      "An app's envPrefix is upper-case letters, digits and underscores, starting with a letter",
    );
  }
  const command = given.command ?? given.name;
  if (!COMMAND.test(command)) {
    throw new LoopauthError(
      "usage",
      "An app's command is letters, digits, spaces, dots, hyphens and underscores",
    );
  }
  const title = (given.title ?? given.name).replace(/[\p{Cc}\p{Cf}<>&"']/gu, "").slice(0, 80);
  const resolved: App = Object.freeze({
    name: given.name,
    command,
    envPrefix,
    title: title || given.name,
    ...(given.secrets ? { secrets: given.secrets } : {}),
    ...(given.words ? { words: Object.freeze({ ...given.words }) } : {}),
  });
  RESOLVED.add(resolved);
  return resolved;
}

/**
 * The name under which `app` reads a loopauth variable: `LOOPAUTH_X` is
 * `PREFIX_X`; every other name (HOME, GH_TOKEN, proxies) stays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appEnvName, resolveApp } from "./app.ts";
 * assert.equal(appEnvName(resolveApp("ghstars"), "LOOPAUTH_TOKEN"), "GHSTARS_TOKEN");
 * assert.equal(appEnvName(resolveApp("ghstars"), "HOME"), "HOME");
 * ```
 */
export function appEnvName(app: App, name: string): string {
  return name.startsWith("LOOPAUTH_") ? `${app.envPrefix}_${name.slice(9)}` : name;
}

/**
 * Reads the environment as `app` sees it: code below the edge asks for
 * `LOOPAUTH_X` and gets the app's `PREFIX_X`; a variable Deno may not read
 * counts as unset.
 *
 * @example
 * ```ts
 * import { appEnv, resolveApp } from "./app.ts";
 * const env = appEnv(resolveApp("ghstars"));
 * env("LOOPAUTH_AGENT"); // the value of GHSTARS_AGENT
 * ```
 */
export function appEnv(
  app: App,
  read: (name: string) => string | undefined = readEnvVar,
): (name: string) => string | undefined {
  return (name) => read(appEnvName(app, name));
}

/**
 * The environment variables `app` may read (for its `--allow-env`): the
 * loopauth CLI's list with the app's prefix.
 *
 * @example
 * ```ts
 * import { appEnvVars, resolveApp } from "./app.ts";
 * console.log(`--allow-env=${appEnvVars(resolveApp("ghstars")).join(",")}`);
 * ```
 */
export function appEnvVars(app: App): string[] {
  return ENV_VARS.map((name) => appEnvName(app, name));
}

/**
 * A message written for the loopauth CLI, as `app` says it: the command
 * `loopauth` becomes the app's command, `LOOPAUTH_X` its `PREFIX_X` (a path
 * or URL holding the word is left alone), and the CLI's flags its `words`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appText, resolveApp } from "./app.ts";
 * assert.equal(
 *   appText(resolveApp("ghstars"), "Session expired: run loopauth login (or set LOOPAUTH_TOKEN)"),
 *   "Session expired: run ghstars login (or set GHSTARS_TOKEN)",
 * );
 * ```
 */
export function appText(app: App, text: string): string {
  if (app.name === "loopauth" && app.command === "loopauth" && app.envPrefix === "LOOPAUTH") {
    return text;
  }
  const words = app.words ?? {};
  const keys = Object.keys(words);
  // One pass, longest first ("--storage file" wins over "--storage"), whole flags only
  // ("--web" is not in "--web-only"): a message said twice is said the same. Before the
  // command: a word for "loopauth status" is the app's whole command.
  const escape = (word: string) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = keys.sort((a, b) => b.length - a.length).map(escape).join("|");
  const worded = keys.length === 0 ? text : text.replace(
    new RegExp(`(?<![\\w-])(?:${pattern})(?![\\w-])`, "g"),
    (word) => words[word],
  );
  return worded
    .replace(/\bLOOPAUTH_(?=[A-Z])/g, `${app.envPrefix}_`)
    .replace(/(?<![\w./@-])loopauth(?![\w/.@-]|\.\w)/g, app.command);
}

/** A flag of the loopauth CLI in a hint (Deno's own `--allow-*` work in every app). */
const CLI_FLAG = /(?<![\w-])--(?!allow-)[a-z][a-z0-9-]*/g;

/**
 * The loopauth CLI's subcommands (main.ts, and `help`): a hint that runs
 * one other than `login` (which every app has) needs the app's word for it.
 */
export const CLI_COMMANDS: readonly string[] = [
  "login",
  "token",
  "api",
  "logout",
  "status",
  "switch",
  "refresh",
  "doctor",
  "git-credential",
  "setup-git",
  "demo",
  "dev-server",
  "mcp-proxy",
  "agent",
  "completion",
  "help",
];

/** `loopauth SUBCOMMAND` in a hint. */
const CLI_RUN = new RegExp(
  `(?<![\\w./@-])loopauth (?:${CLI_COMMANDS.join("|")})(?![\\w-])`,
  "g",
);

/**
 * Whether `app` can say `hint` so that it works as printed: every CLI flag
 * it names is one of the app's `words`, and so is every subcommand it runs
 * but `login` (`"loopauth status": "ghstars accounts"`); the loopauth CLI
 * says them all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appSays, resolveApp } from "./app.ts";
 * const app = resolveApp({ name: "ghstars", words: { "--web": "--browser" } });
 * assert.equal(appSays(app, "log in with --web"), true);
 * assert.equal(appSays(app, "use --storage file"), false);
 * assert.equal(appSays(app, "run loopauth login --web"), true);
 * assert.equal(appSays(app, "see loopauth status"), false);
 * ```
 */
export function appSays(app: App, hint: string): boolean {
  // Its command is loopauth's: the flags are the CLI's own.
  if (app.command === LOOPAUTH_APP.command) return true;
  // The CLI's flags it has a word for, and its own words (a message it already said).
  const words = Object.entries(app.words ?? {}).flat();
  // A word covers a flag (a command) where the hint has the word there, the whole at its start.
  const covered = (found: RegExpMatchArray) =>
    words.some((word) => word.startsWith(found[0]) && hint.startsWith(word, found.index));
  return [...hint.matchAll(CLI_FLAG)].every(covered) &&
    [...hint.matchAll(CLI_RUN)].every((run) => run[0] === "loopauth login" || covered(run));
}

/**
 * A message written for the loopauth CLI as `app` says it: its hints (what
 * follows each `: ` or `, or `, and a closing parenthetical; what comes
 * before them is the reason, always said) in the app's words
 * ({@linkcode appText}); from the first hint that names a flag the app has
 * no word for ({@linkcode appSays}) on, they are left out: a hint an app
 * prints works in it as printed, or is not printed. The loopauth CLI's
 * messages are its own, unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appMessage, resolveApp } from "./app.ts";
 * const message = "No OS keyring is available (locked): use --storage file";
 * assert.equal(appMessage(resolveApp("ghstars"), message), "No OS keyring is available (locked)");
 * assert.equal(
 *   appMessage(resolveApp({ name: "ghstars", words: { "--storage file": "--plain" } }), message),
 *   "No OS keyring is available (locked): use --plain",
 * );
 * ```
 */
export function appMessage(app: App, message: string): string {
  // Cut before the first hint (from the start) the app cannot say: what follows it may
  // lean on it ("…: give it with --x, or log in with --y").
  let cut = message.length;
  for (let hint = lastHint(message); hint; hint = lastHint(message.slice(0, hint.start))) {
    if (!appSays(app, hint.text)) cut = hint.start;
  }
  return appText(app, message.slice(0, cut));
}

/** A message's last hint: its closing parenthetical, else what follows its last `: ` or `, or `. */
function lastHint(message: string): { start: number; text: string } | undefined {
  const count = (text: string, char: string) => text.split(char).length - 1;
  const open = message.lastIndexOf(" (");
  if (message.endsWith(")") && open > 0 && count(message.slice(open + 2), "(") === 0) {
    return { start: open, text: message.slice(open) };
  }
  const at = Math.max(message.lastIndexOf(": "), message.lastIndexOf(", or "));
  if (at <= 0) return undefined;
  const text = message.slice(at);
  // Cut only where no parenthesis is left open.
  return count(text, ")") > count(text, "(") ? undefined : { start: at, text };
}

/**
 * Runs one library entry point for `app`: a permission Deno denied becomes
 * a `permission` error naming the flag, and every error's message is said
 * as the app says it ({@linkcode appMessage}), keeping its code, reason and
 * cause.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoopauthError } from "./errors.ts";
 * import { inApp, resolveApp } from "./app.ts";
 * const failing = () =>
 *   Promise.reject(new LoopauthError("not_logged_in", "Not logged in: run loopauth login"));
 * await assert.rejects(inApp(resolveApp("ghstars"), failing), {
 *   code: "not_logged_in",
 *   message: "Not logged in: run ghstars login",
 * });
 * ```
 */
export async function inApp<T>(app: App, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const found = error instanceof LoopauthError ? error : permissionError(error) ?? error;
    // Said once: an entry point that calls another (token() a login) says it no more.
    if (!(found instanceof LoopauthError) || SAID.has(found)) throw found;
    const message = appMessage(app, found.message);
    const said = message === found.message ? found : new LoopauthError(found.code, message, {
      cause: found.cause,
      status: found.status,
      oauthError: found.oauthError,
      reason: found.reason,
    });
    SAID.add(said);
    throw said;
  }
}

/** Errors an app's entry point has said in the app's words (a word may hold its flag). */
const SAID = new WeakSet<LoopauthError>();

/** Options of {@linkcode appPermissionFlags}. */
export interface AppPermissionOptions {
  /** The app's config directory as an absolute path (`configDir({ app })`). */
  configDir: string;
  /** The hosts it logs in to and calls (default github.com and api.github.com). */
  hosts?: readonly string[];
  /**
   * The app's agent directory under `$XDG_RUNTIME_DIR` (`$XDG_RUNTIME_DIR/APP`),
   * when it uses an agent there; the one in the config directory is always granted.
   */
  runtimeDir?: string;
}

/**
 * The `deno run` flags an app built on the library needs for every entry
 * point, in the shape of the loopauth CLI's own (scripts/permissions.ts
 * `runFlags`, from the same {@linkcode ENV_VARS} list with the app's
 * prefix): net to 127.0.0.1, its hosts and its agent's sockets; env of its
 * variables; read and write of its config directory; `uid`; and `run` (the
 * keyring's `secret-tool`/`security` and the browser opener, which
 * `$BROWSER` may name). docs/library.md says which entry point needs which.
 *
 * @example
 * ```ts
 * import { appPermissionFlags, resolveApp } from "./app.ts";
 * const flags = appPermissionFlags(resolveApp("ghstars"), {
 *   configDir: "/home/me/.config/ghstars",
 * });
 * console.log(["deno", "run", ...flags, "ghstars.ts"].join(" "));
 * ```
 */
export function appPermissionFlags(app: App, options: AppPermissionOptions): string[] {
  const hosts = options.hosts ?? ["github.com", "api.github.com"];
  const dirs = [options.configDir, ...(options.runtimeDir ? [options.runtimeDir] : [])];
  const sockets = [
    `${options.configDir}/agent/agent.sock`,
    ...(options.runtimeDir ? [`${options.runtimeDir}/agent.sock`] : []),
  ];
  return [
    `--allow-net=${["127.0.0.1", "[::1]", ...hosts, ...sockets.map((s) => `unix:${s}`)].join(",")}`,
    `--allow-env=${appEnvVars(app).join(",")}`,
    `--allow-read=${dirs.join(",")}`,
    `--allow-write=${dirs.join(",")}`,
    "--allow-sys=uid",
    "--allow-run",
  ];
}
