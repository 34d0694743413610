/**
 * Fresh secrets for one authorization attempt: `state` and the PKCE S256
 * verifier and challenge (RFC 7636), from `crypto.getRandomValues` and
 * WebCrypto's SHA-256.
 *
 * By hand rather than oauth4webapi's three helpers (the same four lines):
 * evaluating that large module delayed every login's URL (docs/performance.md). The OpenID Connect provider still uses oauth4webapi,
 * and the built-in provider checks this challenge with it.
 * @module
 */

/** The per-attempt secrets of an authorization request. */
export interface AuthorizationSecrets {
  /** Random `state`, 256 bits, base64url. */
  state: string;
  /** PKCE code verifier, 43 characters of base64url (256 bits). */
  codeVerifier: string;
  /** `BASE64URL(SHA-256(codeVerifier))`, sent as `code_challenge`. */
  codeChallenge: string;
}

/**
 * Makes a new `state`, PKCE verifier and S256 challenge.
 *
 * @example
 * ```ts
 * import { createAuthorizationSecrets } from "./pkce.ts";
 * const { state, codeChallenge } = await createAuthorizationSecrets();
 * ```
 */
export async function createAuthorizationSecrets(): Promise<AuthorizationSecrets> {
  const codeVerifier = randomBase64Url();
  return {
    state: randomBase64Url(),
    codeVerifier,
    codeChallenge: await s256Challenge(codeVerifier),
  };
}

/**
 * The S256 `code_challenge` of a verifier: `BASE64URL(SHA-256(ASCII(verifier)))`
 * (RFC 7636 §4.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { s256Challenge } from "./pkce.ts";
 * // RFC 7636, Appendix B.
 * assert.equal(
 *   await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
 *   "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
 * );
 * ```
 */
export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/** 32 random bytes as 43 characters of base64url (RFC 7636 §4.1's recommendation). */
function randomBase64Url(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Base64url without padding (RFC 4648 §5); `Uint8Array.prototype.toBase64` needs Deno 2.5. */
function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
