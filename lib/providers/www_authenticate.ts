/**
 * The `Bearer` challenge of a `WWW-Authenticate` header (RFC 6750 §3, RFC
 * 9728 §5.1): where the protected resource metadata is, which scopes to ask
 * for, and whether a `403` asks for more (`insufficient_scope`).
 * @module
 */

/** What a resource's `Bearer` challenge says. */
export interface BearerChallenge {
  /** RFC 9728 `resource_metadata`: the URL of the resource's metadata. */
  resourceMetadata?: string;
  /** The scopes the resource wants, space-separated as sent. */
  scope?: string;
  /** The error code (`invalid_token`, `insufficient_scope`, …). */
  error?: string;
}

/** A token68 or quoted auth-param value, or a name, as RFC 9110 §11 writes them. */
const PARAM = /\s*([A-Za-z0-9_.!#$%&'*+^`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]*)\s*(,|$)/y;

/**
 * The `Bearer` challenge of a `WWW-Authenticate` header, or `undefined`
 * when it has none. Parsed by hand: the header may hold several challenges
 * and quoted commas, which a split on `,` gets wrong, and no std module
 * parses it. A value with a control character is dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBearerChallenge } from "./www_authenticate.ts";
 * const header = 'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write"';
 * assert.deepEqual(parseBearerChallenge(header), {
 *   resourceMetadata: "https://mcp.example.com/.well-known/oauth-protected-resource",
 *   scope: "files:read files:write",
 * });
 * assert.equal(parseBearerChallenge('Basic realm="x"'), undefined);
 * ```
 */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (!header) return undefined;
  const start = /(?:^|,)\s*Bearer(?:\s+|$)/i.exec(header);
  if (!start) return undefined;
  const challenge: BearerChallenge = {};
  PARAM.lastIndex = start.index + start[0].length;
  for (;;) {
    const at = PARAM.lastIndex;
    const match = PARAM.exec(header);
    if (!match || match.index !== at || match[0] === "") break;
    const [, name, raw] = match;
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f]/.test(value)) continue;
    const key = name.toLowerCase();
    if (key === "resource_metadata") challenge.resourceMetadata ??= value;
    else if (key === "scope") challenge.scope ??= value;
    else if (key === "error") challenge.error ??= value;
    if (match[3] === "") break;
  }
  return challenge;
}
