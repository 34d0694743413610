/**
 * The shared vocabulary of logins: tokens, device codes and the device
 * grant, the login flows. Every layer uses these; they import nothing.
 * @module
 */

/** A login flow: `web` is the loopback flow, `device` the device flow (RFC 8628). */
export type Flow = "web" | "device";

/** Tokens from a token endpoint. */
export interface TokenSet {
  /** The access token. */
  accessToken: string;
  /** `bearer` for GitHub. */
  tokenType: string;
  /** Granted scopes (GitHub answers them comma-separated). */
  scopes: string[];
  /** ISO time the access token expires, when the server says. */
  expiresAt?: string;
  /** Refresh token of expiring tokens. */
  refreshToken?: string;
  /** ISO time the refresh token expires, when the server says. */
  refreshTokenExpiresAt?: string;
}

/** A device code from `ORIGIN/login/device/code` (RFC 8628 §3.2). */
export interface DeviceCode {
  /** The secret code the CLI polls with; never shown. */
  deviceCode: string;
  /** The short code the user types, e.g. `WDJB-MJHT`. */
  userCode: string;
  /** Where the user enters the code. */
  verificationUri: string;
  /** The same page with the code filled in, when the server gives one. */
  verificationUriComplete?: string;
  /** Seconds until the codes expire. */
  expiresIn: number;
  /** Seconds to wait between polls. */
  interval: number;
}

/** One poll's answer: tokens, or wait (possibly longer) and poll again. */
export type DevicePoll =
  | { status: "done"; tokens: TokenSet }
  | { status: "pending" }
  | { status: "slow_down"; interval?: number };

/**
 * A server's device endpoints, as `deviceFlow` (flows/device.ts) uses them:
 * `gitHubDeviceGrant` (providers/github.ts) or `issuerDeviceGrant`
 * (providers/oidc.ts).
 */
export interface DeviceGrant {
  /** Asks for a device code. */
  request: (options: { scopes?: string[]; signal?: AbortSignal }) => Promise<DeviceCode>;
  /** Polls once with the device code. */
  poll: (deviceCode: string, options: { signal?: AbortSignal }) => Promise<DevicePoll>;
}

/**
 * The device grant type of RFC 8628.
 *
 * @example
 * ```ts
 * import { DEVICE_GRANT_TYPE } from "./types.ts";
 * new URLSearchParams({ grant_type: DEVICE_GRANT_TYPE });
 * ```
 */
export const DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";

/** A callback of the loopback flow that carried a code, with what redeeming it takes. */
export interface AuthorizationResponse {
  /** The authorization code. */
  code: string;
  /** The redirect URI the code was issued for. */
  redirectUri: string;
  /** The PKCE verifier for the token request. */
  codeVerifier: string;
  /** Every query parameter of the callback (`iss` included). */
  params: URLSearchParams;
}
