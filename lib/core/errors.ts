/**
 * Typed errors with a stable `code`; each code maps to one exit code of the CLI.
 * @module
 */
import { permissionMessage } from "./permission_error.ts";
import { terminalSafe } from "./text.ts";

/** Every error a user can cause or meet, by stable name. */
export type ErrorCode =
  | "usage"
  | "not_logged_in"
  | "access_denied"
  | "oauth"
  | "timeout"
  | "network"
  | "storage"
  | "revoke_failed"
  | "port_in_use"
  | "api"
  | "permission"
  | "session_expired"
  | "output"
  | "cancelled";

/** Each error code's exit code and a few words for the CLI's help: the one table of them. */
const EXIT_TABLE: Readonly<Record<ErrorCode, readonly [exit: number, words: string]>> = {
  usage: [2, "usage"],
  not_logged_in: [3, "not logged in"],
  access_denied: [4, "access denied"],
  oauth: [5, "refused by the server"],
  timeout: [6, "timeout"],
  network: [7, "network"],
  storage: [8, "storage"],
  revoke_failed: [9, "revocation failed"],
  port_in_use: [10, "port in use"],
  api: [11, "API error"],
  permission: [12, "missing Deno permission"],
  session_expired: [13, "session expired (log in again)"],
  output: [14, "output closed"],
  cancelled: [130, "cancelled"],
};

/**
 * The CLI's exit code for each error code (documented in docs/exit_codes.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT_CODES } from "./errors.ts";
 * assert.equal(EXIT_CODES.usage, 2);
 * ```
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = Object.fromEntries(
  Object.entries(EXIT_TABLE).map(([code, [exit]]) => [code, exit]),
) as Record<ErrorCode, number>;

/**
 * Every exit code with a few words, in one line for the CLI's help:
 * `0 ok, 1 unexpected error, 2 usage, …, 130 cancelled`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitCodeSummary } from "./errors.ts";
 * assert.match(exitCodeSummary(), /^0 ok, 1 unexpected error, 2 usage, .*, 130 cancelled$/);
 * ```
 */
export function exitCodeSummary(): string {
  const rows: (readonly [number, string])[] = [
    [0, "ok"],
    [1, "unexpected error"],
    ...Object.values(EXIT_TABLE),
  ];
  return rows.sort(([a], [b]) => a - b).map(([exit, words]) => `${exit} ${words}`).join(", ");
}

/**
 * What exactly went wrong, finer than an {@linkcode ErrorCode} (which picks
 * the exit code); stable across versions, listed in docs/exit_codes.md:
 *
 * - `device_unavailable`: the host or app offers no device flow (a race of
 *   routes drops the device route and goes on);
 * - `pkce_unsupported`: the issuer's metadata does not list PKCE S256;
 * - `issuer_mismatch`: an answer names another issuer than the one asked
 *   (the callback's `iss`, the metadata's `issuer`, an ID token's);
 * - `metadata_invalid`: the issuer's metadata is missing or unusable;
 * - `id_token_invalid`: the ID token failed its checks;
 * - `token_invalid`: the server issued an access token unfit to store;
 * - `client_unknown`: the host does not know the client id.
 */
export type ErrorReason = typeof ERROR_REASONS[number];

/**
 * Every {@linkcode ErrorReason}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ERROR_REASONS } from "./errors.ts";
 * assert.ok(ERROR_REASONS.includes("pkce_unsupported"));
 * ```
 */
export const ERROR_REASONS = [
  "device_unavailable",
  "pkce_unsupported",
  "issuer_mismatch",
  "metadata_invalid",
  "id_token_invalid",
  "token_invalid",
  "client_unknown",
] as const;

/** Options of a {@linkcode LoopauthError}: what caused it, as far as it is known. */
export interface LoopauthErrorOptions extends ErrorOptions {
  /** What exactly went wrong, when finer than the code (see {@linkcode ErrorReason}). */
  reason?: ErrorReason;
  /** The HTTP status of the answer that caused it. */
  status?: number;
  /** The OAuth `error` code of that answer (e.g. `bad_verification_code`). */
  oauthError?: string;
}

/**
 * An error whose message is one clear line for the user and whose `code`
 * names what happened (and picks the exit code); `reason` says exactly what
 * where the code is coarse, and `cause`, `status` and `oauthError` keep what
 * is known of why (the CLI prints the chain under `LOOPAUTH_DEBUG=1`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoopauthError } from "./errors.ts";
 * const error = new LoopauthError("oauth", "The client secret is wrong", {
 *   status: 200,
 *   oauthError: "incorrect_client_credentials",
 * });
 * assert.equal(error.code, "oauth");
 * assert.equal(error.oauthError, "incorrect_client_credentials");
 * ```
 */
export class LoopauthError extends Error {
  /** What happened, stable across versions. */
  readonly code: ErrorCode;
  /** The HTTP status of the answer that caused it, when there was one. */
  readonly status?: number;
  /** The OAuth `error` code of that answer, when there was one. */
  readonly oauthError?: string;
  /** What exactly went wrong, when finer than `code` (see {@linkcode ErrorReason}). */
  readonly reason?: ErrorReason;

  /** Creates an error with a code and a one-line message. */
  constructor(code: ErrorCode, message: string, options: LoopauthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LoopauthError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.oauthError !== undefined) this.oauthError = options.oauthError;
    if (options.reason !== undefined) this.reason = options.reason;
  }
}

/**
 * The chain of causes of an error, one line each, for `LOOPAUTH_DEBUG=1`;
 * each line terminal-safe (a cause's message or OAuth error code may come
 * from a server).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { causeChain, LoopauthError } from "./errors.ts";
 * const error = new LoopauthError("network", "api.github.com did not answer", {
 *   cause: new TypeError("fetch failed"),
 * });
 * assert.deepEqual(causeChain(error), [
 *   "LoopauthError [network]: api.github.com did not answer",
 *   "TypeError: fetch failed",
 * ]);
 * ```
 */
export function causeChain(error: unknown): string[] {
  const lines: string[] = [];
  for (let e: unknown = error; e !== undefined && lines.length < 10; e = (e as Error).cause) {
    if (!(e instanceof Error)) {
      lines.push(terminalSafe(String(e)));
      break;
    }
    const extra = e instanceof LoopauthError
      ? ` [${
        [e.code, e.reason, e.status && `HTTP ${e.status}`, e.oauthError].filter(Boolean).join(", ")
      }]`
      : "";
    lines.push(terminalSafe(`${e.name}${extra}: ${e.message.split("\n")[0]}`));
  }
  return lines;
}

/**
 * Turns Deno's refusal of a permission (anywhere in an error's cause chain)
 * into a `permission` error naming the flag; `undefined` for other errors.
 *
 * @example
 * ```ts ignore
 * import { permissionError } from "./errors.ts";
 * try {
 *   Deno.env.get("HOME");
 * } catch (error) {
 *   throw permissionError(error) ?? error;
 * }
 * ```
 */
export function permissionError(error: unknown): LoopauthError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return new LoopauthError("permission", permissionMessage(e), { cause: e });
    }
    // A module loaded when used (--unstable-lazy-dynamic-imports) that Deno may not load.
    const [, kind, module] = /^Requires (read|import) access to "([^"]+)"/.exec(e.message) ?? [];
    if (e instanceof TypeError && module !== undefined) {
      const grant = kind === "read"
        ? "add loopauth's lib directory to --allow-read"
        : "add its host to --allow-import";
      return new LoopauthError(
        "permission",
        `Deno may not load ${terminalSafe(module, { max: 4096 }) // a path: cut, the hint would not work
        }: ${grant} (modules load when used), or leave out --unstable-lazy-dynamic-imports`,
        { cause: e },
      );
    }
  }
  return undefined;
}

/**
 * The command that logs in to a host again: `loopauth login`, with
 * `--issuer URL` for an OAuth/OIDC issuer and `--hostname HOST` for any
 * host but github.com.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loginCommand } from "./errors.ts";
 * assert.equal(
 *   loginCommand("https://id.example.com", { issuer: true }),
 *   "loopauth login --issuer https://id.example.com",
 * );
 * ```
 */
export function loginCommand(
  host: string,
  options: { issuer?: boolean; resource?: boolean } = {},
): string {
  if (options.resource) return `loopauth login --resource ${host}`;
  if (options.issuer) return `loopauth login --issuer ${host}`;
  return host === "github.com" ? "loopauth login" : `loopauth login --hostname ${host}`;
}

/**
 * The error of a session that cannot be renewed (the refresh token was
 * refused or expired): `session_expired`, naming the command that logs in
 * again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionExpired } from "./errors.ts";
 * assert.equal(
 *   sessionExpired("ghe.example.com").message,
 *   "Session for ghe.example.com expired: run loopauth login --hostname ghe.example.com",
 * );
 * ```
 */
export function sessionExpired(
  host: string,
  options: LoopauthErrorOptions & { issuer?: boolean } = {},
): LoopauthError {
  const { issuer, ...rest } = options;
  return new LoopauthError(
    "session_expired",
    `Session for ${host} expired: run ${loginCommand(host, { issuer })}`,
    rest,
  );
}
