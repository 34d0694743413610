/**
 * What every subcommand is made of, flag parsing with clear errors, and the
 * flag lists of help made from the same flag table.
 * @module
 */
import { asReason } from "../core/text.ts";
import { LoopauthError } from "../core/errors.ts";
import { readEnvVar } from "../core/env_vars.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import { ArgsError, type Flags, type FlagSpec, parseArgs, type Values } from "./parse_args.ts";

export type { Flags } from "./parse_args.ts";

/** What a subcommand gets besides its flags. */
export interface Context {
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Every subcommand, for `help` and `completion`. */
  commands?: Record<string, CommandEntry>;
}

/** A subcommand in the CLI's table: its summary and how to load it. */
export interface CommandEntry {
  /** One-line summary for `--help`. */
  summary: string;
  /** Loads the subcommand's module. */
  load: () => Promise<{ command: Command }>;
}

/** One subcommand. */
export interface Command {
  /** The subcommand's name. */
  name: string;
  /** Full help text: usage, flags and examples. */
  help: string;
  /**
   * The flag table the command parses (absent: no flags but `--help`); the
   * help's flag list ({@linkcode flagHelp}), completion and `main.ts`'s `-h`
   * check read it, so they cannot disagree.
   */
  flags?: Flags;
  /** The words its first argument takes (`agent start|stop|…`), for completion and its check. */
  subcommands?: readonly string[];
  /** Runs it with the arguments after the name; returns the exit code. */
  run(argv: string[], context: Context): Promise<number>;
}

/** The flags parsed by {@linkcode parseFlags}, typed from the flag table. */
export interface Parsed<F extends Flags = Flags> {
  /** Flag values by long name. */
  values: Values<F>;
  /** Positional arguments. */
  positionals: string[];
}

/**
 * Parses a subcommand's flags strictly; an unknown or malformed flag is a
 * `usage` error with a suggestion for near misses.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./command.ts";
 * const { values } = parseFlags(["--hostname", "github.com"], { hostname: { type: "string" } }, { command: "token" });
 * ```
 */
export function parseFlags<const F extends Flags>(
  argv: string[],
  flags: F,
  options: { command: string; positionals?: boolean },
): Parsed<F> {
  const all = { ...flags, help: helpFlag(flags) } as const;
  try {
    return parseArgs(argv, all, { positionals: options.positionals });
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    const see = `see loopauth help ${options.command}`;
    const flag = error.flag === undefined ? error.arg : `--${error.flag}`;
    switch (error.kind) {
      case "unknown": {
        const hint = suggest(error.arg.replace(/^-+/, ""), Object.keys(all));
        throw new LoopauthError(
          "usage",
          `Unknown flag ${error.arg} for ${options.command}${
            hint ? ` (did you mean --${hint}?)` : ""
          }: ${see}`,
          { cause: error },
        );
      }
      case "positional":
        throw new LoopauthError(
          "usage",
          `Unexpected argument "${error.arg}" for ${options.command}: ${see}`,
          { cause: error },
        );
      case "missing":
        throw new LoopauthError(
          "usage",
          `Flag ${flag} of ${options.command} needs a value${
            error.arg === "-h" && error.flag !== "help"
              ? " (-h is --hostname here, as in gh; --help shows help)"
              : ""
          }: ${see}`,
          { cause: error },
        );
      case "value":
        throw new LoopauthError(
          "usage",
          `Flag ${flag} of ${options.command} takes no value: ${see}`,
          { cause: error },
        );
      case "choice": {
        const choices = all[error.flag!].values!;
        throw new LoopauthError(
          "usage",
          `Invalid ${flag} "${error.arg}": use ${choices.slice(0, -1).join(", ")} or ${
            choices.at(-1)
          }`,
          { cause: error },
        );
      }
    }
  }
}

/**
 * `--help`, with `-h` as its short form unless the command gives `-h` to
 * another flag (`-h HOST` for `--hostname`, as gh does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helpFlag } from "./command.ts";
 * assert.equal(helpFlag({ hostname: { type: "string", short: "h" } }).short, undefined);
 * assert.equal(helpFlag({}).short, "h");
 * ```
 */
export function helpFlag(flags: Flags): { type: "boolean"; short?: "h" } {
  return Object.values(flags).some((spec) => spec.short === "h")
    ? { type: "boolean" }
    : { type: "boolean", short: "h" };
}

// The flag lists of a command's help, made from its flag table (the prose
// around them stays hand-written): help cannot offer a flag the parser
// refuses nor leave out one it takes. Here rather than in a file of its own:
// every command loads this module anyway, and `token` is on git's hot path.

/** Where a flag's description starts, and the width it wraps to. */
const COLUMN = 25;
const WIDTH = 90;

/**
 * How help names a flag: `-h, --hostname HOST`, `--storage keyring|file`,
 * `--json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagUsage } from "./command.ts";
 * assert.equal(flagUsage("hostname", { type: "string", short: "h", value: "HOST" }), "-h, --hostname HOST");
 * assert.equal(flagUsage("storage", { type: "string", values: ["keyring", "file"] }), "--storage keyring|file");
 * ```
 */
export function flagUsage(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "";
  const value = spec.type === "boolean"
    ? ""
    : ` ${spec.value ?? spec.values?.join("|") ?? "VALUE"}`;
  return `${short}--${name}${value}`;
}

/**
 * The lines of a help's flag list for `flags` (hidden ones left out): each
 * flag's usage, its description from column 25 wrapped to 90 characters
 * (on the next line when the usage is too long to leave room).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagHelp } from "./command.ts";
 * const help = flagHelp({
 *   json: { type: "boolean", description: "print JSON" },
 *   waiter: { type: "boolean", hidden: true },
 * });
 * assert.equal(help, "  --json                 print JSON");
 * ```
 */
export function flagHelp(flags: Flags): string {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(flags)) {
    if (spec.hidden) continue;
    const usage = `  ${flagUsage(name, spec)}`;
    const words = (spec.description ?? "").split(/\s+/).filter(Boolean);
    let line = usage.length + 2 <= COLUMN
      ? usage.padEnd(COLUMN)
      : usage.length + 2 <= COLUMN + 4
      ? `${usage}  `
      : (lines.push(usage), " ".repeat(COLUMN));
    let empty = true;
    for (const word of words) {
      if (!empty && line.length + 1 + word.length > WIDTH) {
        lines.push(line);
        line = " ".repeat(COLUMN);
        empty = true;
      }
      line += empty ? word : ` ${word}`;
      empty = false;
    }
    if (line.trim()) lines.push(line.trimEnd());
  }
  return lines.join("\n");
}

/**
 * The closest candidate to a mistyped word, if it is close enough.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { suggest } from "./command.ts";
 * assert.equal(suggest("hostnme", ["hostname", "help"]), "hostname");
 * ```
 */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Refuses each of `flags` that was given beside `beside` (a mode such as
 * `--resource`): a usage error `--resource takes no --hostname`, followed by
 * `: why` when given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseFlags } from "./command.ts";
 * assert.throws(
 *   () => refuseFlags({ hostname: "ghe.example.com" }, ["hostname"], { beside: "--resource" }),
 *   /^LoopauthError: --resource takes no --hostname$/,
 * );
 * ```
 */
export function refuseFlags(
  values: Readonly<Record<string, unknown>>,
  flags: readonly string[],
  { beside, why }: { beside: string; why?: string },
): void {
  const given = flags.find((flag) => values[flag] !== undefined);
  if (given !== undefined) {
    throw new LoopauthError("usage", `${beside} takes no --${given}${why ? `: ${why}` : ""}`);
  }
}

/**
 * The resource of `--resource URL`, canonical (`canonicalResource`), once
 * `--hostname`, `--issuer` and each of `refused` are refused beside it
 * (see {@linkcode refuseFlags}): login, token and logout take it alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resourceFlag } from "./command.ts";
 * const resource = await resourceFlag({ resource: "https://MCP.example.com/mcp" }, ["user"]);
 * assert.equal(resource, "https://mcp.example.com/mcp");
 * ```
 */
export async function resourceFlag(
  values: Readonly<Record<string, unknown>> & { resource?: string },
  refused: readonly string[],
): Promise<string> {
  refuseFlags(values, ["hostname", "issuer", ...refused], { beside: "--resource" });
  // Loaded only for --resource: GitHub's commands need none of it.
  const { canonicalResource } = await import("../providers/resource_url.ts");
  return canonicalResource(values.resource ?? "");
}

/**
 * Reads a string flag, else an environment variable, else `undefined`.
 *
 * @example
 * ```ts ignore
 * import { flagOrEnv } from "./command.ts";
 * const clientId = flagOrEnv({ "client-id": undefined }, "client-id", "LOOPAUTH_CLIENT_ID");
 * ```
 */
export function flagOrEnv(values: Parsed["values"], flag: string, env: string): string | undefined {
  const value = values[flag];
  if (typeof value === "string" && value !== "") return value;
  return Deno.env.get(env) || undefined;
}

/**
 * Reads `--port`: a whole number from 1 to 65535, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { portFlag } from "./command.ts";
 * assert.equal(portFlag({ port: "8400" }), 8400);
 * ```
 */
export function portFlag(values: Parsed["values"]): number | undefined {
  const text = values.port;
  if (typeof text !== "string") return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new LoopauthError("usage", `Invalid --port "${text}": use a number from 1 to 65535`);
  }
  return port;
}

/**
 * The one action (`agent start`, `git-credential get`) that `positionals`
 * name, among `actions`; anything else, or more words, is a `usage` error
 * with `message`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneAction } from "./command.ts";
 * assert.equal(oneAction(["get"], ["get", "store"] as const, "get or store"), "get");
 * assert.throws(() => oneAction(["get", "x"], ["get"] as const, "get only"), /get only/);
 * ```
 */
export function oneAction<const A extends readonly string[]>(
  positionals: string[],
  actions: A,
  message: string,
): A[number] {
  const [action, ...extra] = positionals;
  if (!actions.includes(action) || extra.length) throw new LoopauthError("usage", message);
  return action;
}

/**
 * Writes a command's result to stdout, all of it, or fails clearly: a
 * closed pipe (`loopauth token | head -c0`) is an `output` error, not a
 * silent success that printed nothing.
 *
 * @example
 * ```ts
 * import { writeResult } from "./command.ts";
 * writeResult("gho_example\n");
 * ```
 */
export function writeResult(text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
  } catch (error) {
    throw new LoopauthError("output", "Cannot write the result: stdout was closed", {
      cause: error,
    });
  }
}

/** `--hostname HOST` alone (commands without `--issuer`), `-h HOST` as in gh. */
export const HOSTNAME_FLAG = {
  hostname: {
    type: "string",
    short: "h",
    value: "HOST",
    description:
      "github.com (default; or LOOPAUTH_HOST, GH_HOST), a GitHub Enterprise Server host, or an http:// loopback origin such as http://127.0.0.1:8080",
  },
} as const satisfies Flags;

/** `--hostname HOST` and `--issuer URL`: which host (one of them, see {@linkcode issuerFlag}). */
export const HOST_FLAGS = {
  ...HOSTNAME_FLAG,
  issuer: {
    type: "string",
    value: "URL",
    description: "an OAuth 2.0 / OpenID Connect issuer instead of a GitHub host",
  },
} as const satisfies Flags;

/** {@linkcode HOST_FLAGS} with the command's own words for `--issuer`. */
export type HostFlags = typeof HOSTNAME_FLAG & {
  issuer: Omit<typeof HOST_FLAGS.issuer, "description"> & { description: string };
};

/**
 * {@linkcode HOST_FLAGS}, `--issuer` described as the command uses it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostFlags } from "./command.ts";
 * assert.equal(hostFlags("only this issuer").issuer.value, "URL");
 * ```
 */
export function hostFlags(issuer: string): HostFlags {
  return { ...HOST_FLAGS, issuer: { ...HOST_FLAGS.issuer, description: issuer } };
}

/** `--scopes LIST`, `-s LIST` as in gh (`login`, `refresh`). */
export const SCOPES_FLAG = {
  scopes: {
    type: "string",
    short: "s",
    value: "LIST",
    description: "scopes, comma- or space-separated",
  },
} as const satisfies Flags;

/** `--user LOGIN`: which of the host's accounts. */
export const USER_FLAG = {
  user: {
    type: "string",
    value: "LOGIN",
    description: "the account (default: LOOPAUTH_USER, else the host's active account)",
  },
} as const satisfies Flags;

/**
 * The variable that picks the account for one process (beside
 * `LOOPAUTH_HOST`): parallel agents each set their own and never change the
 * host's active account in `config.json`.
 */
export const USER_VARIABLE = "LOOPAUTH_USER";

/** The account a command uses, and the variable it came from (for messages). */
export interface UserChoice {
  /** The login (`undefined`: the host's active account). */
  user?: string;
  /** {@linkcode USER_VARIABLE} when the login came from it rather than `--user`. */
  userVariable?: string;
}

/**
 * `--user`, else {@linkcode USER_VARIABLE} from the environment; neither
 * is the host's active account. A variable holding a control character,
 * line separator or quote (no stored login has one) is a `usage` error
 * naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { userFlag } from "./command.ts";
 * assert.deepEqual(userFlag({ user: "hubot" }), { user: "hubot" });
 * ```
 */
export function userFlag(values: Parsed["values"]): UserChoice {
  if (typeof values.user === "string") return { user: values.user };
  const value = readEnvVar(USER_VARIABLE)?.trim();
  if (!value) return {};
  // Stored logins are GitHub's grammar or an issuer's cleaned name (accounts.ts, issuer claims).
  if (value.length > 100 || /["'`\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value)) {
    throw new LoopauthError(
      "usage",
      `${USER_VARIABLE} does not name an account: set it to a login that loopauth status lists, or unset it`,
    );
  }
  return { user: value, userVariable: USER_VARIABLE };
}

/**
 * `--issuer URL`, which replaces `--hostname` (giving both is a usage error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { issuerFlag } from "./command.ts";
 * assert.equal(issuerFlag({ issuer: "https://id.example.com" }), "https://id.example.com");
 * ```
 */
export function issuerFlag(values: Parsed["values"]): string | undefined {
  const issuer = values.issuer;
  if (typeof issuer !== "string") return undefined;
  if (values.hostname !== undefined) {
    throw new LoopauthError("usage", "Give --hostname or --issuer, not both");
  }
  return issuer;
}

/** The variables that name the default host instead of github.com, first wins (gh reads `GH_HOST`). */
export const HOST_VARIABLES: readonly string[] = ["LOOPAUTH_HOST", "GH_HOST"];

/**
 * The default host from `LOOPAUTH_HOST`, else `GH_HOST`; `undefined` when
 * neither is set (github.com). A value that is not a host is a `usage`
 * error naming the variable.
 *
 * @example
 * ```ts
 * import { defaultHost } from "./command.ts";
 * const host = defaultHost() ?? "github.com";
 * ```
 */
export function defaultHost(): string | undefined {
  for (const variable of HOST_VARIABLES) {
    const value = readEnvVar(variable)?.trim();
    if (!value) continue;
    try {
      resolveGitHubHost(value);
    } catch (error) {
      if (!(error instanceof LoopauthError)) throw error;
      throw new LoopauthError(
        "usage",
        `${variable} does not name a host (${asReason(error)}): fix or unset ${variable}`,
      );
    }
    return value;
  }
  return undefined;
}

/**
 * `--hostname`, else (without `--issuer`) the {@linkcode defaultHost} from
 * the environment; `undefined` for github.com.
 *
 * @example
 * ```ts
 * import { hostnameFlag } from "./command.ts";
 * hostnameFlag({ hostname: "ghe.example.com" }); // "ghe.example.com"
 * ```
 */
export function hostnameFlag(values: Parsed["values"]): string | undefined {
  const hostname = values.hostname;
  if (typeof hostname === "string") return hostname;
  return values.issuer === undefined ? defaultHost() : undefined;
}
