/**
 * One clear line for a server that could not listen on 127.0.0.1 (the
 * callback server, the built-in provider).
 * @module
 */
import { LoopauthError } from "./errors.ts";

/**
 * The error for a failed listen on 127.0.0.1 (or `options.address`) at `port` (0 or `undefined`: a
 * port from the OS), or `undefined` when `error` is about something else.
 *
 * With no port asked for, the OS names none: on Linux `EADDRINUSE`, on BSD
 * and macOS `EADDRNOTAVAIL` mean every ephemeral port is taken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenError } from "./listen_error.ts";
 * const taken = new Deno.errors.AddrInUse("Address already in use (os error 98)");
 * assert.equal(
 *   listenError(taken, 8400)?.message,
 *   "Port 8400 on 127.0.0.1 is already in use: free it or choose another with --port",
 * );
 * assert.match(listenError(taken, 0)!.message, /^No free port on 127\.0\.0\.1: /);
 * assert.equal(listenError(new Error("other"), 0), undefined);
 * ```
 */
export function listenError(
  error: unknown,
  port?: number,
  options: {
    /** The address it tried (default `127.0.0.1`; `[::1]` for IPv6). */
    address?: string;
    /** What chooses another port (default `--port`). */
    flag?: string;
  } = {},
): LoopauthError | undefined {
  const address = options.address ?? "127.0.0.1";
  const flag = options.flag ?? "--port";
  const fixed = port !== undefined && port !== 0;
  const cause = { cause: error };
  if (
    !fixed &&
    (error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.AddrNotAvailable)
  ) {
    return new LoopauthError(
      "port_in_use",
      `No free port on ${address}: other programs hold every port the OS hands out; close some, or choose a free one with ${flag}`,
      cause,
    );
  }
  if (error instanceof Deno.errors.AddrInUse) {
    return new LoopauthError(
      "port_in_use",
      `Port ${port} on ${address} is already in use: free it or choose another with ${flag}`,
      cause,
    );
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new LoopauthError(
      "network",
      `Cannot listen on ${address}: this machine does not have that address (is the loopback interface down?)`,
      cause,
    );
  }
  // The OS's refusal (not Deno's): ports below 1024 are root's on most systems.
  if (error instanceof Deno.errors.PermissionDenied && fixed && port < 1024) {
    return new LoopauthError(
      "port_in_use",
      `Port ${port} on ${address} needs root (as every port below 1024): run as root or choose another with ${flag}`,
      cause,
    );
  }
  return undefined;
}
