/**
 * `--issuer URL`: its checks and the host key accounts are stored under.
 * No npm package here: `token` loads this without oauth4webapi.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { hideUserinfo, terminalSafe } from "../core/text.ts";
import { isLoopbackHost } from "./github.ts";

/** An account's host that is an issuer (stored with `issuer: true`), before discovery. */
export interface IssuerRef {
  /** The issuer URL accounts are stored under. */
  key: string;
  /** Marks the host as an issuer. */
  issuer: true;
}

/**
 * The stored host key of `--issuer URL` among `keys`: the URL as given, or
 * with/without its trailing slash (metadata may spell it either way).
 *
 * @example
 * ```ts
 * import { issuerRef } from "./issuer_url.ts";
 * issuerRef("https://id.example.com/", ["https://id.example.com"]).key; // "https://id.example.com"
 * ```
 */
export function issuerRef(input: string, keys: Iterable<string> = []): IssuerRef {
  const url = parseIssuerUrl(input);
  const given = input.trim();
  const known = new Set(keys);
  const candidates = [given, given.replace(/\/+$/, ""), `${given.replace(/\/+$/, "")}/`, url.href];
  return { key: candidates.find((k) => known.has(k)) ?? given, issuer: true };
}

/**
 * Checks `--issuer`: an https URL, or http for a loopback address, without
 * query or fragment.
 *
 * @example
 * ```ts
 * import { parseIssuerUrl } from "./issuer_url.ts";
 * parseIssuerUrl("https://id.example.com/realms/dev").host; // "id.example.com"
 * ```
 */
export function parseIssuerUrl(input: string): URL {
  const shown = terminalSafe(hideUserinfo(input.trim()), { max: 120 });
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new LoopauthError(
      "usage",
      `Invalid issuer "${shown}": give a URL such as https://id.example.com`,
    );
  }
  if (url.username || url.password) {
    // Not echoed: the input holds a password.
    throw new LoopauthError(
      "usage",
      "Invalid issuer: give the issuer URL without a user name or password",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new LoopauthError("usage", `Invalid issuer "${shown}": use https://`);
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new LoopauthError(
      "usage",
      `Refusing http:// for issuer ${url.hostname}: only loopback addresses (127.0.0.1, [::1]) may use http://`,
    );
  }
  if (url.search || url.hash) {
    throw new LoopauthError(
      "usage",
      `Invalid issuer "${shown}": give the issuer URL without query or fragment`,
    );
  }
  return url;
}

/**
 * The error for an issuer session that only a new login can restore.
 *
 * @example
 * ```ts
 * import { issuerSessionExpired } from "./issuer_url.ts";
 * throw issuerSessionExpired("https://id.example.com");
 * ```
 */
export function issuerSessionExpired(key: string): LoopauthError {
  return new LoopauthError(
    "session_expired",
    `Session for ${key} expired: run loopauth login --issuer ${key}`,
  );
}
