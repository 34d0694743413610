/**
 * Outbound requests with a bounded time and one clear error each.
 * @module
 */
import { LoopauthError, permissionError } from "./errors.ts";
import { asReason, terminalSafe } from "./text.ts";
import { httpsProxyVariable, proxyFor, proxyVariables } from "./proxy_env.ts";
import { fetchLoopbackDirect, isLoopbackHost } from "./loopback.ts";

/** Default time an outbound request may take. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Options of {@linkcode fetchBounded}. */
export interface FetchBoundedOptions {
  /** Aborting cancels the request (Ctrl-C). */
  signal?: AbortSignal;
  /** Milliseconds before the request is given up (default 30 s). */
  timeout?: number;
  /** What is being reached, for messages, e.g. "the token endpoint of github.com". */
  what: string;
}

/**
 * `fetch` with a timeout; network failures become `LoopauthError("network")`
 * and an abort through `signal` becomes `LoopauthError("cancelled")`. An
 * `http://` loopback address is reached directly, never through a proxy
 * (see `fetchLoopbackDirect`).
 *
 * @example
 * ```ts ignore
 * import { fetchBounded } from "./http.ts";
 * const response = await fetchBounded("https://github.com/", { method: "HEAD" }, { what: "github.com" });
 * ```
 */
export async function fetchBounded(
  url: string,
  init: RequestInit,
  options: FetchBoundedOptions,
): Promise<Response> {
  const timeout = options.timeout ?? REQUEST_TIMEOUT_MS;
  const timer = AbortSignal.timeout(timeout);
  const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
  try {
    return await fetchLoopbackDirect(url, { ...init, signal, redirect: init.redirect ?? "manual" });
  } catch (error) {
    // A certificate or proxy failure is the host's, whichever endpoint met it first.
    const hostWide = /invalid peer certificate|unsuccessful tunnel|proxy authentication required/i
      .test(chainText(error));
    throw networkError(error, hostWide ? new URL(url).host : options.what, options.signal);
  }
}

/**
 * Turns a failed request into one clear error: cancelled, timed out or
 * unreachable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkError } from "./http.ts";
 * const error = networkError(new TypeError("connection refused"), "github.com");
 * assert.equal(error.message, "Cannot reach github.com: connection refused");
 * ```
 */
export function networkError(error: unknown, what: string, signal?: AbortSignal): LoopauthError {
  if (error instanceof LoopauthError) return error;
  const denied = permissionError(error);
  if (denied) return denied;
  if (signal?.aborted) {
    const reason = signal.reason;
    return reason instanceof LoopauthError
      ? reason
      : new LoopauthError("cancelled", "Cancelled", { cause: reason });
  }
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new LoopauthError(
      "network",
      `No answer from ${what} in time: check your network and try again`,
      { cause: error },
    );
  }
  return new LoopauthError(
    "network",
    `Cannot reach ${what}: ${connectionHint(error) ?? failureReason(error)}`,
    { cause: error },
  );
}

/**
 * What to say of a TLS or proxy failure, naming the variable that fixes it
 * (see docs/proxies.md); `undefined` for any other failure.
 */
function connectionHint(error: unknown): string | undefined {
  const text = chainText(error);
  // Deno's message names the URL: then the proxy in effect for it is known exactly.
  const url = /request for url \(([^)\s]+)\)/.exec(text)?.[1];
  const decision = url && URL.canParse(url) ? proxyFor(url) : undefined;
  const proxy = decision?.proxy?.variable ?? httpsProxyVariable() ?? "HTTPS_PROXY";
  if (/Failed opening CA file/i.test(text)) {
    return "the CA file of DENO_CERT (or --cert) cannot be opened: set DENO_CERT to a PEM file";
  }
  const certificate = /invalid peer certificate: (\w+)/.exec(text)?.[1];
  if (certificate === "UnknownIssuer") {
    return "its TLS certificate is signed by an authority Deno does not trust (a proxy that inspects TLS?): set DENO_CERT to that CA's PEM file, or DENO_TLS_CA_STORE=system to trust the system's store";
  }
  if (certificate === "Expired" || certificate === "NotValidYet") {
    return "its TLS certificate is expired or not valid yet: check this machine's clock";
  }
  if (certificate === "NotValidForName") {
    return "its TLS certificate is for another host name: check --hostname, or the proxy that inspects TLS";
  }
  if (certificate !== undefined) {
    return `its TLS certificate is refused (${
      terminalSafe(certificate, { max: 60 })
    }): set DENO_CERT to your CA's PEM file if a proxy re-signs TLS`;
  }
  // An https:// request answered in plain HTTP: a host given without its scheme (issue 30).
  if (/InvalidContentType/.test(text) && url && URL.canParse(url)) {
    const { protocol, hostname, host } = new URL(url);
    if (protocol === "https:" && isLoopbackHost(hostname)) {
      return `it does not speak TLS (https://): for a server without TLS give --hostname http://${host}`;
    }
    return "it does not speak TLS (https://): check the host and port";
  }
  if (/proxy authentication required/i.test(text)) {
    return `the proxy of ${proxy} wants a user name and password: set ${proxy}=http://USER:PASSWORD@HOST:PORT`;
  }
  if (/unsuccessful tunnel/i.test(text)) {
    return `the proxy of ${proxy} refused to connect to it (unsuccessful tunnel): check ${proxy}, or list the host in NO_PROXY`;
  }
  const set = decision ? decision.proxy?.variable : httpsProxyVariable();
  const noProxy = decision
    ? decision.noProxy
    : proxyVariables().find((p) => /^no_proxy$/i.test(p.variable))?.variable;
  if (set && /connect|dns|refused|reset|timed out/i.test(text)) {
    // Deno's own messages cannot tell the proxy from the host.
    return `${failureReason(error)} (${set} is set${
      noProxy ? `, unless ${noProxy} lists the host` : ""
    }: check that proxy, or list the host in ${noProxy ?? "NO_PROXY"})`;
  }
  return undefined;
}

/** Every message in an error's cause chain, joined. */
function chainText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 10; e = (e as Error).cause) {
    parts.push(e instanceof Error ? e.message : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.join(": ");
}

/**
 * The last, most specific reason in a chain of fetch errors, without Deno's
 * wrapping ("error sending request for url (…)") or OS error numbers.
 */
function failureReason(error: unknown): string {
  let text = error instanceof Error ? error.message : String(error);
  for (let cause = (error as Error)?.cause; cause instanceof Error; cause = cause.cause) {
    text = cause.message;
  }
  const parts = text.split(/:\s+/).map((p) => p.replace(/\s*\(os error \d+\)/, "").trim())
    .filter(Boolean);
  const reason = parts.at(-1) ?? "unknown error";
  return asReason(terminalSafe(reason, { max: 120 }));
}
