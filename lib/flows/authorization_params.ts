/**
 * Extra parameters of the authorization request chosen by the user
 * (`--prompt`, `--login-hint`, `--param NAME=VALUE`), checked so that none
 * replaces one loopauth owns.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { terminalSafe } from "../core/text.ts";

/**
 * The authorization request's parameters that loopauth sets itself: a
 * user's value would undo a defence (`state`, PKCE, the exact redirect, the
 * OpenID Connect `nonce`, the RFC 8707 `resource`) or break the flow
 * (`response_mode`: the code must come back in the query). `scope` has its
 * own flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OWNED_PARAMS } from "./authorization_params.ts";
 * assert.ok(OWNED_PARAMS.includes("state"));
 * ```
 */
export const OWNED_PARAMS: readonly string[] = [
  "state",
  "code_challenge",
  "code_challenge_method",
  "redirect_uri",
  "resource",
  "client_id",
  "response_type",
  "response_mode",
  "scope",
  "nonce",
];

/** What the owned names are set from, for the message that refuses one. */
const OWNER: Record<string, string> = {
  scope: "use --scopes",
  redirect_uri: "use --redirect-uri",
  client_id: "use --client-id",
};

/**
 * Checks `--param` values (`NAME=VALUE`) and returns them as a record. A
 * name loopauth owns ({@linkcode OWNED_PARAMS}, in any case, also any
 * `code_challenge*`), a malformed name, a value with a control character or
 * over 2,048 characters, or a name given twice is a `usage` error of one line
 * that never repeats the value.
 *
 * @throws {LoopauthError} `usage` for a malformed pair or a name loopauth owns
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseParams } from "./authorization_params.ts";
 * assert.deepEqual(parseParams(["audience=api://x", "acr_values=mfa"]), {
 *   audience: "api://x", acr_values: "mfa",
 * });
 * assert.throws(() => parseParams(["state=abc"]));
 * ```
 */
export function parseParams(
  pairs: readonly string[],
  options: { flag?: string } = {},
): Record<string, string> {
  const flag = options.flag ?? "--param";
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    const name = equals === -1 ? pair : pair.slice(0, equals);
    const shown = terminalSafe(name, { max: 40 });
    if (equals === -1 || !/^[A-Za-z][A-Za-z0-9_.:~-]{0,63}$/.test(name)) {
      throw new LoopauthError(
        "usage",
        `Invalid ${flag} "${shown}": write NAME=VALUE, the name letters, digits and _.:~-`,
      );
    }
    checkOwned(name, flag);
    if (Object.hasOwn(params, name)) {
      throw new LoopauthError("usage", `${flag} ${shown} is given twice: give it once`);
    }
    params[name] = checkValue(pair.slice(equals + 1), `${flag} ${shown}`);
  }
  return params;
}

/**
 * Refuses a parameter name loopauth owns (`usage`), naming the flag to use
 * where there is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOwned } from "./authorization_params.ts";
 * assert.throws(() => checkOwned("State"), /loopauth sets state itself/);
 * checkOwned("audience");
 * ```
 */
export function checkOwned(name: string, flag = "--param"): void {
  const lower = name.toLowerCase();
  const owned = OWNED_PARAMS.includes(lower)
    ? lower
    : lower.startsWith("code_challenge")
    ? "code_challenge"
    : undefined;
  if (owned === undefined) return;
  const instead = OWNER[owned] ? `: ${OWNER[owned]}` : ": it cannot be replaced";
  throw new LoopauthError(
    "usage",
    `Refused ${flag} ${terminalSafe(name, { max: 40 })}: loopauth sets ${owned} itself${instead}`,
  );
}

/**
 * A parameter value as given, or a `usage` error naming `what` (never the
 * value): at most 2,048 characters, no control characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkValue } from "./authorization_params.ts";
 * assert.equal(checkValue("octocat", "--login-hint"), "octocat");
 * assert.throws(() => checkValue("a\nb", "--login-hint"));
 * ```
 */
export function checkValue(value: string, what: string): string {
  // deno-lint-ignore no-control-regex
  if (value.length > 2048 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new LoopauthError(
      "usage",
      `Invalid ${what}: a value is at most 2048 characters, without control characters`,
    );
  }
  return value;
}

/**
 * Checks `--prompt`: space-separated words of letters and `_` (OpenID
 * Connect's `none`, `login`, `consent`, `select_account`, `create`, or a
 * provider's own).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPrompt } from "./authorization_params.ts";
 * assert.equal(checkPrompt("login consent"), "login consent");
 * assert.throws(() => checkPrompt("login&x=1"));
 * ```
 */
export function checkPrompt(value: string): string {
  if (!/^[a-z_]{1,40}( [a-z_]{1,40}){0,7}$/.test(value)) {
    throw new LoopauthError(
      "usage",
      `Invalid --prompt "${
        terminalSafe(value, { max: 40 })
      }": use words such as login, consent, select_account or none, separated by spaces`,
    );
  }
  return value;
}
