/**
 * `--issuer URL`: its checks and the host key accounts are stored under.
 * No npm package here: `token` loads this without oauth4webapi.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { hideUserinfo, terminalSafe } from "../core/text.ts";
import { isLoopbackHost } from "../core/loopback.ts";

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
 * import assert from "node:assert/strict";
 * import { issuerRef } from "./issuer_url.ts";
 * const ref = issuerRef("https://id.example.com/", ["https://id.example.com"]);
 * assert.equal(ref.key, "https://id.example.com");
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
 * import assert from "node:assert/strict";
 * import { parseIssuerUrl } from "./issuer_url.ts";
 * assert.equal(parseIssuerUrl("https://id.example.com/realms/dev").host, "id.example.com");
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
 * Resolves `PATH` (or a full URL) against the API base of an issuer's
 * account: the base is `base`, else the issuer's origin, and the URL must
 * lie under it, so the token goes to no other server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { issuerApiUrl } from "./issuer_url.ts";
 * const url = issuerApiUrl("/v1/me", { issuer: "https://id.example.com/realms/x" });
 * assert.equal(url.href, "https://id.example.com/v1/me");
 * ```
 */
export function issuerApiUrl(path: string, options: { issuer: string; base?: string }): URL {
  const base = parseUrl(options.base ?? parseIssuerUrl(options.issuer).origin, "--base");
  if (base.protocol !== "https:" && !(base.protocol === "http:" && isLoopbackHost(base.hostname))) {
    throw new LoopauthError(
      "usage",
      "The API base must be an https:// URL (http:// only for loopback)",
    );
  }
  if (base.username || base.password || base.search || base.hash) {
    throw new LoopauthError(
      "usage",
      "Give the API base without credentials, query or fragment",
    );
  }
  const prefix = base.href.endsWith("/") ? base.href : `${base.href}/`;
  const url = /^[a-z]+:/i.test(path)
    ? parseUrl(path, "PATH")
    : parseUrl(path.replace(/^\/+/, ""), "PATH", prefix);
  if (url.origin !== base.origin || !`${url.origin}${url.pathname}/`.startsWith(prefix)) {
    throw new LoopauthError(
      "usage",
      `${terminalSafe(path, { max: 100 })} is not under the API base ${base.href}: pass --base`,
    );
  }
  return url;
}

/** A URL from the command line; a malformed one is a `usage` error naming `what`. */
function parseUrl(text: string, what: string, base?: string): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new LoopauthError(
      "usage",
      `Invalid ${what} "${terminalSafe(text, { max: 100 })}": it is not a valid URL`,
    );
  }
}
