/**
 * `doctor`: what a login to a host or issuer needs, checked one thing at a
 * time, each with what to do: the host answers, its metadata and what it
 * offers, the keyring, the config directory, proxy and CA settings, Deno's
 * permissions, and the clock against the server's.
 * @module
 */
import { asReason } from "../core/text.ts";
import { ownUid } from "../platform/uid.ts";
import { ENV_VARS, readEnv } from "../core/env_vars.ts";
import { type ErrorCode, LoopauthError, permissionError } from "../core/errors.ts";
import { fetchBounded } from "../core/http.ts";
import { proxyFor, proxyVariables } from "../core/proxy_env.ts";
import { VERSION } from "../core/version.ts";
import type { GitHubHost } from "../providers/github_host.ts";
import type { IssuerMetadata } from "../providers/oidc.ts";
import { checkConfigDir } from "../store/dir_safety.ts";
import { keyringStore, probeKeyring } from "../store/keyring.ts";
import { configDir, joinPath, STORE_FILES } from "../store/paths.ts";
import type { StorageName } from "../store/secrets.ts";
import { resolveHost } from "./token.ts";

/**
 * `ok`, `warn` (a login still works) or `fail` (it cannot until this is
 * fixed); `fact`: what a host is known to offer, not checked (GitHub's fixed
 * endpoints: no metadata says so, and doctor has no client to try them).
 */
export type CheckStatus = "ok" | "warn" | "fail" | "fact";

/** One check of {@linkcode doctor}. */
export interface DoctorCheck {
  /** What was checked: `host`, `api`, `metadata`, `pkce`, `device`, `revocation`, `iss`, `keyring`, `config`, `proxy`, `ca`, `permissions`, `clock`. */
  name: string;
  /** See {@linkcode CheckStatus}. */
  status: CheckStatus;
  /** What was found, one line. */
  message: string;
  /** What to do, for `warn` and `fail`. */
  fix?: string;
  /** For `fail`: the error code whose exit code the CLI ends with. */
  code?: ErrorCode;
}

/** The result of {@linkcode doctor}. */
export interface DoctorReport {
  /** The host key, or the issuer URL. */
  host: string;
  /** Whether it is an OAuth 2.0 / OpenID Connect issuer. */
  issuer: boolean;
  /** `true` when no check failed: a login can work. */
  ok: boolean;
  /** The checks, in order. */
  checks: DoctorCheck[];
}

/** Options of {@linkcode doctor}. */
export interface DoctorOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** An OAuth 2.0 / OpenID Connect issuer URL instead. */
  issuer?: string;
  /** The config directory (default: the user's). */
  configDir?: string;
  /** The storage a login would be forced to (`--storage`, `LOOPAUTH_STORAGE`). */
  storage?: StorageName;
  /** Milliseconds each request may take (default 10 s). */
  timeout?: number;
  /** Aborting cancels the requests. */
  signal?: AbortSignal;
}

/** A clock further off than this from the server's is a warning. */
export const CLOCK_SKEW_WARN_MS = 60_000;

/** An answer's `Date` header and when the request went and came back. */
interface Timing {
  date: string | null;
  sent: number;
  received: number;
  host: string;
}

/**
 * Runs every check for a host (or issuer) and reports each; never throws
 * for what it finds (a `cancelled` error still ends it).
 *
 * @example
 * ```ts ignore
 * import { doctor } from "./doctor.ts";
 * const report = await doctor({ hostname: "github.com" });
 * for (const check of report.checks) console.log(check.status, check.name, check.message);
 * ```
 */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const dir = options.configDir ?? configDir();
  const host = await resolveHost({ ...options, configDir: dir });
  const issuer = "issuer" in host;
  const timing: Timing[] = [];
  const request = async (name: string, url: string) => {
    const sent = Date.now();
    try {
      const response = await fetchBounded(url, {
        headers: { Accept: "application/json", "User-Agent": `loopauth/${VERSION}` },
      }, { signal: options.signal, timeout: options.timeout ?? 10_000, what: hostOf(url) });
      await response.body?.cancel();
      const received = Date.now();
      timing.push({ date: response.headers.get("date"), sent, received, host: hostOf(url) });
      return { name, url, status: response.status, ms: received - sent };
    } catch (error) {
      if (error instanceof LoopauthError && error.code === "cancelled") throw error;
      const known = error instanceof LoopauthError ? error : permissionError(error);
      if (!known) throw error;
      checks.push({
        name,
        status: "fail",
        message: `${label(name)}: ${known.message}`,
        fix: known.code === "permission"
          ? "add the flag it names"
          : "check the host name, your network, and the proxy and CA lines below",
        code: known.code,
      });
      return undefined;
    }
  };
  let urls: string[];
  if (issuer) {
    const answer = await request("host", host.key);
    if (answer) checks.push(answered(answer));
    const metadata = answer ? await issuerChecks(host.key, options, checks) : undefined;
    urls = [host.key, ...endpointsOf(metadata)];
  } else {
    const github = host as GitHubHost;
    const site = await request("host", `${github.origin}/`);
    if (site) checks.push(answered(site));
    const api = await request("api", `${github.apiUrl}/`);
    const noApi = api?.status === 404;
    if (api) {
      checks.push(
        noApi
          ? {
            name: "api",
            status: "fail",
            message: `API: ${github.apiUrl} answered HTTP 404: no GitHub API there`,
            fix: "check --hostname: a GitHub Enterprise Server has its API at /api/v3",
            code: "api",
          }
          : answered(api),
      );
    }
    // GitHub's endpoints are facts about GitHub: claimed only for a host that is one.
    checks.push(
      ...(site && api && !noApi ? gitHubChecks(github) : [
        notChecked(
          !site
            ? `${github.origin} did not answer`
            : !api
            ? `${github.apiUrl} did not answer`
            : `no GitHub API at ${github.apiUrl}`,
        ),
      ]),
    );
    urls = [github.origin, github.apiUrl];
  }
  checks.push(await keyringCheck(options.storage, dir));
  checks.push(await configCheck(dir));
  checks.push(proxyCheck(urls));
  checks.push(caCheck());
  checks.push(permissionsCheck(urls, dir));
  checks.push(clockCheck(timing));
  return {
    host: host.key,
    issuer,
    ok: !checks.some((c) => c.status === "fail"),
    checks,
  };
}

function hostOf(url: string): string {
  return new URL(url).host;
}

function label(name: string): string {
  return name === "api" ? "API" : name;
}

function answered(answer: { name: string; url: string; status: number; ms: number }): DoctorCheck {
  const message = `${
    label(answer.name)
  }: ${answer.url} answers (HTTP ${answer.status} in ${answer.ms} ms)`;
  return answer.status >= 500
    ? { name: answer.name, status: "warn", message, fix: "the server has trouble: try later" }
    : { name: answer.name, status: "ok", message };
}

/** In place of {@linkcode gitHubChecks} for a host that did not answer, or has no GitHub API. */
function notChecked(why: string): DoctorCheck {
  return {
    name: "metadata",
    status: "warn",
    message: `endpoints (PKCE, device flow, revocation): not checked: ${why}`,
    fix: "fix the ✗ lines first",
  };
}

/**
 * What GitHub and GHES offer: fixed endpoints, no metadata document. Facts,
 * not checks: nothing here could fail, so none is shown as a passed check.
 */
function gitHubChecks(host: GitHubHost): DoctorCheck[] {
  return [
    {
      name: "metadata",
      status: "fact",
      message:
        `endpoints: GitHub's own (no metadata document): ${host.authorizationEndpoint}, API ${host.apiUrl}`,
    },
    { name: "pkce", status: "fact", message: "PKCE S256: GitHub accepts it" },
    {
      name: "device",
      status: "fact",
      message:
        `device flow: ${host.origin}/login/device/code (the app needs Enable Device Flow ticked)`,
    },
    {
      name: "revocation",
      status: "fact",
      message: "revocation: DELETE /applications/{client_id}/token (needs the client secret)",
    },
    {
      name: "iss",
      status: "fact",
      message: "iss parameter (RFC 9207): GitHub sends none; state and PKCE protect the callback",
    },
  ];
}

/** The issuer's metadata and what it offers; the metadata, when it could be read. */
async function issuerChecks(
  key: string,
  options: DoctorOptions,
  checks: DoctorCheck[],
): Promise<IssuerMetadata | undefined> {
  const { discoverIssuer } = await import("../providers/oidc.ts");
  let metadata: IssuerMetadata;
  try {
    metadata = (await discoverIssuer(key, { signal: options.signal, allowNoPkceMetadata: true }))
      .metadata;
  } catch (error) {
    if (!(error instanceof LoopauthError) || error.code === "cancelled") throw error;
    checks.push({
      name: "metadata",
      status: "fail",
      message: `metadata: ${error.message}`,
      fix: "check --issuer: it must be the issuer's exact URL",
      code: error.code,
    });
    return undefined;
  }
  checks.push({
    name: "metadata",
    status: "ok",
    message:
      `metadata of ${metadata.issuer}: authorization ${metadata.authorization_endpoint}, token ${metadata.token_endpoint}`,
  });
  checks.push(
    metadata.code_challenge_methods_supported?.includes("S256")
      ? { name: "pkce", status: "ok", message: "PKCE S256: offered" }
      : {
        name: "pkce",
        status: "warn",
        message: "PKCE S256: not listed in the metadata",
        fix: "if the issuer supports it anyway, log in with --allow-no-pkce-metadata",
      },
  );
  checks.push(
    metadata.device_authorization_endpoint
      ? {
        name: "device",
        status: "ok",
        message: `device flow: ${metadata.device_authorization_endpoint}`,
      }
      : {
        name: "device",
        status: "warn",
        message: "device flow: not offered",
        fix: "log in with the browser flow (--web); over SSH, forward the callback port",
      },
  );
  checks.push(
    metadata.revocation_endpoint
      ? { name: "revocation", status: "ok", message: `revocation: ${metadata.revocation_endpoint}` }
      : {
        name: "revocation",
        status: "warn",
        message: "revocation: not offered (RFC 7009)",
        fix: "logout can only remove the token here: it stays valid until it expires",
      },
  );
  checks.push({
    name: "iss",
    status: "ok",
    message: metadata.authorization_response_iss_parameter_supported
      ? "iss parameter (RFC 9207): sent, and checked"
      : "iss parameter (RFC 9207): not sent; state and PKCE protect the callback",
  });
  return metadata;
}

function endpointsOf(metadata: IssuerMetadata | undefined): string[] {
  if (!metadata) return [];
  return [
    metadata.authorization_endpoint,
    metadata.token_endpoint,
    metadata.userinfo_endpoint,
    metadata.revocation_endpoint,
    metadata.device_authorization_endpoint,
    metadata.jwks_uri,
  ].filter((u): u is string => typeof u === "string");
}

async function keyringCheck(storage: StorageName | undefined, dir: string): Promise<DoctorCheck> {
  const file = joinPath(dir, STORE_FILES.secrets);
  if (storage === "file") {
    return {
      name: "keyring",
      status: "ok",
      message: `keyring: not used (file storage chosen): tokens go to ${file} (mode 0600)`,
    };
  }
  let reason: string;
  try {
    const probe = await probeKeyring();
    if (probe.ok) {
      return {
        name: "keyring",
        status: "ok",
        message: `keyring: ${keyringStore().location} answers: tokens go there`,
      };
    }
    reason = probe.reason;
  } catch (error) {
    const known = error instanceof LoopauthError ? error : permissionError(error);
    if (!known) throw error;
    reason = asReason(known);
  }
  if (storage === "keyring") {
    return {
      name: "keyring",
      status: "fail",
      message: `keyring: not usable (${reason}), and keyring storage is forced`,
      fix: "start or unlock the keyring, or use --storage file",
      code: "storage",
    };
  }
  return {
    name: "keyring",
    status: "warn",
    message: `keyring: not usable (${reason}): tokens go to ${file} (mode 0600)`,
    fix:
      "make the keyring answer (Linux: a Secret Service and secret-tool), or choose the file with --storage file",
  };
}

async function configCheck(dir: string): Promise<DoctorCheck> {
  const name = "config";
  try {
    checkConfigDir(dir);
  } catch (error) {
    const known = error instanceof LoopauthError ? error : permissionError(error);
    if (!known) throw error;
    return {
      name,
      status: "fail",
      // The message says what to do (chmod, another directory, the flag to add).
      message: `config directory: ${known.message}`,
      code: known.code,
    };
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        name,
        status: "ok",
        message:
          `config directory: ${dir} does not exist yet (made with mode 0700 at the first login)`,
      };
    }
    const denied = permissionError(error);
    return {
      name,
      status: "fail",
      message: `config directory: ${denied?.message ?? `cannot read ${dir}`}`,
      fix: denied ? "add the flag it names" : `check ${dir}`,
      code: denied ? "permission" : "storage",
    };
  }
  if (!info.isDirectory) {
    return {
      name,
      status: "fail",
      message: `config directory: ${dir} is not a directory`,
      fix: `move it away, or set XDG_CONFIG_HOME to another place`,
      code: "storage",
    };
  }
  if (Deno.build.os === "windows" || info.mode === null) {
    return { name, status: "ok", message: `config directory: ${dir} (Windows: no POSIX modes)` };
  }
  const mode = info.mode & 0o777;
  const uid = ownUid();
  const owner = uid === undefined ? undefined : info.uid === uid ? "yours" : `uid ${info.uid}`;
  const shown = `${dir} (${owner ? `${owner}, ` : ""}mode 0${mode.toString(8)})`;
  if (!owner) {
    return {
      name,
      status: "warn",
      message: `config directory: ${shown}; its owner is not checked`,
      fix: "run with --allow-sys=uid so that loopauth refuses a directory of another user",
    };
  }
  return {
    name,
    status: "ok",
    message: `config directory: ${shown}${
      mode & 0o077 ? "; tightened to 0700 at the next write" : ""
    }`,
  };
}

function proxyCheck(urls: string[]): DoctorCheck {
  const names = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"]
    .flatMap((n) => [n, n.toLowerCase()]);
  const unreadable = names.filter((variable) => !readable(variable));
  const hosts = new Map<string, string[]>();
  for (const url of new Set(urls)) {
    const decision = proxyFor(url);
    const key = decision.proxy
      ? `through ${decision.proxy.variable}=${decision.proxy.url}${
        decision.noProxy ? ` unless ${decision.noProxy} lists it` : ""
      }`
      : decision.loopback
      ? "directly (a loopback address)"
      : "directly";
    hosts.set(key, [...new Set([...(hosts.get(key) ?? []), hostOf(url)])]);
  }
  const set = proxyVariables().map((p) => p.variable);
  const message = set.length === 0
    ? "proxy: none set (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY)"
    : `proxy: ${[...hosts].map(([how, list]) => `${list.join(", ")} ${how}`).join("; ")}`;
  if (unreadable.length) {
    return {
      name: "proxy",
      status: "warn",
      message: `${message}; cannot read ${unreadable.join(", ")}`,
      fix: `run with --allow-env for them (Deno still uses them) to see what applies`,
    };
  }
  return { name: "proxy", status: "ok", message };
}

function caCheck(): DoctorCheck {
  const { DENO_CERT, DENO_TLS_CA_STORE } = readEnv(["DENO_CERT", "DENO_TLS_CA_STORE"]);
  const store = DENO_TLS_CA_STORE
    ? `DENO_TLS_CA_STORE=${DENO_TLS_CA_STORE}`
    : "Mozilla's (default)";
  if (DENO_CERT) {
    return { name: "ca", status: "ok", message: `CA: ${store}, plus DENO_CERT=${DENO_CERT}` };
  }
  return {
    name: "ca",
    status: "ok",
    message:
      `CA: ${store}; no DENO_CERT (a --cert flag on the deno command line is not visible here)`,
  };
}

function readable(variable: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "env", variable }).state === "granted";
  } catch {
    return false;
  }
}

function permissionsCheck(urls: string[], dir: string): DoctorCheck {
  const granted = (descriptor: Deno.PermissionDescriptor) => {
    try {
      return Deno.permissions.querySync(descriptor).state === "granted";
    } catch {
      return false;
    }
  };
  const netHosts = [...new Set(["127.0.0.1", ...urls.map(hostOf)])];
  const missing = [
    ...netHosts.filter((host) => !granted({ name: "net", host })).map((h) => `--allow-net=${h}`),
    ...(granted({ name: "read", path: dir }) ? [] : [`--allow-read=${dir}`]),
    ...(granted({ name: "write", path: dir }) ? [] : [`--allow-write=${dir}`]),
  ];
  if (missing.length) {
    return {
      name: "permissions",
      status: "fail",
      message: `Deno permissions: missing ${missing.join(" ")}`,
      fix: "run with them (docs/permissions.md)",
      code: "permission",
    };
  }
  const envMissing = ENV_VARS.filter((variable) => !readable(variable));
  const soft = [
    ...(envMissing.length ? [`--allow-env=${envMissing.join(",")} (they count as unset)`] : []),
    ...(granted({ name: "sys", kind: "uid" }) ? [] : ["--allow-sys=uid (owner checks)"]),
    ...(granted({ name: "run" }) ? [] : ["--allow-run (browser, keyring, git)"]),
  ];
  const have = `net ${netHosts.join(", ")}; read and write ${dir}`;
  if (soft.length) {
    return {
      name: "permissions",
      status: "warn",
      message: `Deno permissions: ${have}; without ${soft.join(", ")}`,
      fix: "add them for every feature (docs/permissions.md)",
    };
  }
  return {
    name: "permissions",
    status: "ok",
    message: `Deno permissions: ${have}; env, sys uid, run`,
  };
}

function clockCheck(timing: Timing[]): DoctorCheck {
  const answer = timing.find((t) => t.date !== null && !Number.isNaN(Date.parse(t.date)));
  if (!answer) {
    return {
      name: "clock",
      status: "warn",
      message: timing.length ? "clock: the server sent no Date header" : "clock: not checked",
      fix: "make sure this machine's clock is right (expiry times depend on it)",
    };
  }
  // The server's second, compared with the middle of the round trip.
  const skew = (answer.sent + answer.received) / 2 - Date.parse(answer.date!) - 500;
  const off = Math.abs(skew);
  if (off <= CLOCK_SKEW_WARN_MS) {
    return {
      name: "clock",
      status: "ok",
      message: `clock: within ${human(Math.max(1000, off))} of ${answer.host}'s`,
    };
  }
  return {
    name: "clock",
    status: "warn",
    message: `clock: ${human(off)} ${skew > 0 ? "ahead of" : "behind"} ${answer.host}'s`,
    fix:
      "set the clock right (e.g. timedatectl set-ntp true): token expiry and id_token checks depend on it",
  };
}

/** A clock difference for people: seconds, minutes or hours. */
function human(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
