/**
 * Fresh secrets for one authorization attempt: `state` and the PKCE S256
 * verifier and challenge (RFC 7636), made by oauth4webapi from
 * `crypto.getRandomValues`.
 * @module
 */
import * as oauth from "npm:oauth4webapi@^3";

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
  const codeVerifier = oauth.generateRandomCodeVerifier();
  return {
    state: oauth.generateRandomState(),
    codeVerifier,
    codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
  };
}

/**
 * Compares two strings in time that does not depend on where they differ.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantTimeEqual } from "./pkce.ts";
 * assert.equal(constantTimeEqual("abc", "abc"), true);
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  // The length is not secret (the state's length is public); its content is.
  if (left.length !== right.length) return false;
  // By hand rather than node:crypto's timingSafeEqual: loading node:crypto
  // costs a login about 8 ms of start-up. Every byte is compared, always.
  let diff = 0;
  for (let i = 0; i < left.length; i++) diff |= left[i] ^ right[i];
  return diff === 0;
}
