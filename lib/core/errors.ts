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

/**
 * The CLI's exit code for each error code (documented in README.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT_CODES } from "./errors.ts";
 * assert.equal(EXIT_CODES.usage, 2);
 * ```
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  usage: 2,
  not_logged_in: 3,
  access_denied: 4,
  oauth: 5,
  timeout: 6,
  network: 7,
  storage: 8,
  revoke_failed: 9,
  port_in_use: 10,
  api: 11,
  permission: 12,
  session_expired: 13,
  output: 14,
  cancelled: 130,
};

/** Options of a {@linkcode LoopauthError}: what caused it, as far as it is known. */
export interface LoopauthErrorOptions extends ErrorOptions {
  /** The HTTP status of the answer that caused it. */
  status?: number;
  /** The OAuth `error` code of that answer (e.g. `bad_verification_code`). */
  oauthError?: string;
}

/**
 * An error whose message is one clear line for the user and whose `code`
 * names what happened; `cause`, `status` and `oauthError` keep what is known
 * of why (the CLI prints the chain under `LOOPAUTH_DEBUG=1`).
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

  /** Creates an error with a code and a one-line message. */
  constructor(code: ErrorCode, message: string, options: LoopauthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LoopauthError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.oauthError !== undefined) this.oauthError = options.oauthError;
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
      ? ` [${[e.code, e.status && `HTTP ${e.status}`, e.oauthError].filter(Boolean).join(", ")}]`
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
export function loginCommand(host: string, options: { issuer?: boolean } = {}): string {
  if (options.issuer) return `loopauth login --issuer ${host}`;
  return host === "github.com" ? "loopauth login" : `loopauth login --hostname ${host}`;
}
