/**
 * The loopback redirect URI a client registration demands (RFC 8252 §7.3):
 * `http://` on `127.0.0.1`, `[::1]` or `localhost`, an optional fixed port
 * and an exact path; nothing else.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { hideUserinfo, terminalSafe } from "../core/text.ts";

/** A loopback redirect URI, checked. */
export interface LoopbackRedirect {
  /** The host as the URI writes it: `127.0.0.1`, `[::1]` or `localhost`. */
  host: "127.0.0.1" | "[::1]" | "localhost";
  /** The fixed port; `undefined`: one from the OS (RFC 8252 §7.3 lets any port through). */
  port?: number;
  /** The exact path the callback must have, e.g. `/callback`. */
  path: string;
}

/** The redirect of a login that names none: `http://127.0.0.1:PORT/callback`. */
export const DEFAULT_REDIRECT: LoopbackRedirect = { host: "127.0.0.1", path: "/callback" };

const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "[::1]", "localhost"];

/**
 * Checks a redirect URI given by the user (`--redirect-uri`): it must be
 * written exactly as the provider will compare it (the canonical form a URL
 * parser gives), with `http:` and a loopback host, no user name, query or
 * fragment, and a port from 1 to 65535 or none. Anything else is a `usage`
 * error of one line.
 *
 * @throws {LoopauthError} `usage` for a URI that is not `http://` on a loopback host with a path
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedirectUri } from "./redirect_uri.ts";
 * assert.deepEqual(parseRedirectUri("http://localhost:8123/cb"), {
 *   host: "localhost", port: 8123, path: "/cb",
 * });
 * assert.throws(() => parseRedirectUri("https://127.0.0.1/cb"));
 * ```
 */
export function parseRedirectUri(text: string): LoopbackRedirect {
  const shown = terminalSafe(hideUserinfo(text), { max: 80 });
  const refuse = (why: string) =>
    new LoopauthError("usage", `Invalid --redirect-uri "${shown}": ${why}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse("give an http:// loopback URL such as http://127.0.0.1:8123/callback");
  }
  if (url.protocol !== "http:") {
    throw refuse(
      "a loopback redirect is http:// (RFC 8252 §7.3), e.g. http://127.0.0.1:8123/callback",
    );
  }
  if (url.username || url.password) throw refuse("a redirect URI has no user name or password");
  if (!LOOPBACK_HOSTS.includes(url.host.replace(/:\d+$/, ""))) {
    throw refuse("the host must be 127.0.0.1, [::1] or localhost (the callback listens there)");
  }
  if (url.search || url.hash || text.includes("?") || text.includes("#")) {
    throw refuse("a redirect URI has no query or fragment (the callback's own go there)");
  }
  if (url.port === "0") {
    throw refuse(
      "port 0 is no port a provider accepts: give a fixed port, or none for one from the OS",
    );
  }
  // The provider compares strings: what is sent must be what was typed.
  if (url.href !== text) throw refuse(`write it as ${terminalSafe(url.href, { max: 80 })}`);
  const host = url.hostname === "[::1]" ? "[::1]" : url.hostname as LoopbackRedirect["host"];
  return { host, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname };
}
