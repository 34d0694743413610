/**
 * The OS keyring as a secret store, through the platform's own command:
 * `secret-tool` (libsecret, Secret Service over D-Bus) on Linux and the BSDs,
 * `security` (Keychain) on macOS.
 *
 * Subprocesses rather than FFI: FFI needs `--allow-ffi` (which is all
 * permissions in disguise) and per-platform C bindings, while these commands
 * are the supported front ends, handle the D-Bus session and unlock prompts
 * themselves, and let every call be bounded by killing the child. The secret
 * goes over stdin, never on a command line.
 *
 * Reads, the hot path of `token` and `git-credential`, first ask the
 * Secret Service over the session bus directly (./secret_service.ts: a third
 * of what going through `secret-tool` costs, docs/performance.md), when Deno
 * may reach the bus without a prompt: `DBUS_SESSION_BUS_ADDRESS` a
 * `unix:path=` socket, and read, write and `unix:` net access to it (the
 * documented flags name `$XDG_RUNTIME_DIR/bus`). Whatever that path cannot
 * answer (no bus, no service, a locked item that needs an unlock prompt)
 * goes to `secret-tool` as before, which also says what is wrong in its own
 * words.
 *
 * Windows Credential Manager has no command that reads a stored password
 * back (`cmdkey` only writes and lists), and reaching `CredReadW` from
 * PowerShell means compiling C# at run time on every `token` call (seconds);
 * so on Windows the keyring counts as unavailable and loopauth falls back to
 * the 0600 file with its warning.
 * @module
 */
import { ownUid } from "../platform/uid.ts";
import { parseDuration } from "../core/duration.ts";
import { keyringLocation, type Secrets, type SecretStore } from "./secrets.ts";
import { loginCommand, LoopauthError } from "../core/errors.ts";
import { formatDuration } from "../core/duration.ts";
import { within } from "../core/timers.ts";
import { type App, appEnv, LOOPAUTH_APP } from "../core/app.ts";
import type { SecretLookup } from "./secret_service.ts";

/** Default time one keyring call may take. */
export const KEYRING_TIMEOUT_MS = 10_000;

/** Options of {@linkcode keyringStore} and {@linkcode probeKeyring}. */
export interface KeyringOptions {
  /** Milliseconds one call may take (default 10 s or `LOOPAUTH_KEYRING_TIMEOUT`). */
  timeout?: number;
  /** The platform (default `Deno.build.os`). */
  os?: string;
  /** The app whose items these are: its name is the items' service (default loopauth). */
  app?: App;
  /** Aborting kills the keyring program still running (and ends the call with the reason). */
  signal?: AbortSignal;
}

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one keyring command; its answer, or `undefined` when the program is missing. */
async function run(
  program: string,
  args: string[],
  options: { stdin?: string; timeout: number; signal?: AbortSignal },
): Promise<Output | undefined> {
  options.signal?.throwIfAborted();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const finished = (async () => {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    return await child.output();
  })();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  options.signal?.addEventListener("abort", kill, { once: true });
  let result;
  try {
    result = await within(finished, options.timeout);
  } finally {
    options.signal?.removeEventListener("abort", kill);
  }
  options.signal?.throwIfAborted();
  if (result === undefined) {
    kill();
    finished.catch(() => {});
    throw notAnswering(options.timeout);
  }
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr).trim().split("\n")[0],
  };
}

function timeoutOf(options: KeyringOptions): number {
  if (options.timeout !== undefined) return options.timeout;
  const text = appEnv(options.app ?? LOOPAUTH_APP)("LOOPAUTH_KEYRING_TIMEOUT");
  return text ? parseDuration(text) : KEYRING_TIMEOUT_MS;
}

interface Platform {
  program: string;
  lookup(service: string, host: string, login: string): string[];
  store(
    service: string,
    host: string,
    login: string,
    secret: string,
  ): { args: string[]; stdin: string };
  clear(service: string, host: string, login: string): string[];
  /** Exit code and stderr of "no such item". */
  isMissing(output: Output): boolean;
  missingProgram: string;
}

// `--` ends secret-tool's options (GOption): a login such as `--help` stays an attribute value.
const SECRET_TOOL: Platform = {
  program: "secret-tool",
  lookup: (
    service,
    host,
    login,
  ) => ["lookup", "--", "service", service, "host", host, "account", login],
  store: (service, host, login, secret) => ({
    args: [
      "store",
      `--label=${service}: ${login} on ${host}`,
      "--",
      "service",
      service,
      "host",
      host,
      "account",
      login,
    ],
    stdin: secret,
  }),
  clear: (
    service,
    host,
    login,
  ) => ["clear", "--", "service", service, "host", host, "account", login],
  // secret-tool exits 1 without a message when nothing matches.
  isMissing: (output) => output.code === 1 && output.stderr === "",
  missingProgram: "secret-tool is not installed (Debian/Ubuntu: apt install libsecret-tools)",
};

/** The longest line `security -i` reads whole (its readline stops at 4095 bytes). */
const SECURITY_LINE_MAX = 4095;

/**
 * One `security -i` command line, each argument quoted by the rules of
 * security's own `split_line`: inside double quotes a backslash makes the
 * next character literal; a line break or NUL cannot be quoted at all.
 */
function securityCommandLine(args: string[]): string {
  if (args.some((arg) => /[\n\0]/.test(arg))) {
    throw new LoopauthError(
      "storage",
      "The macOS Keychain cannot take a login or host with a line break or NUL: use --storage file",
    );
  }
  const line = args.map((arg) => `"${arg.replace(/["\\]/g, "\\$&")}"`).join(" ");
  // A longer line would be cut, and its rest run as a command of its own.
  if (new TextEncoder().encode(line).length > SECURITY_LINE_MAX) {
    throw new LoopauthError(
      "storage",
      `The secrets are too long for the macOS Keychain's security command (${SECURITY_LINE_MAX} bytes a line): use --storage file`,
    );
  }
  return `${line}\n`;
}

// The Keychain item: service APP (loopauth), account "LOGIN@HOST". `security -i`
// reads its command from stdin, so the secret (hex-encoded) stays off argv.
const SECURITY: Platform = {
  program: "security",
  lookup: (
    service,
    host,
    login,
  ) => ["find-generic-password", "-s", service, "-a", `${login}@${host}`, "-w"],
  store: (service, host, login, secret) => ({
    args: ["-i"],
    stdin: securityCommandLine([
      "add-generic-password",
      "-U",
      "-s",
      service,
      "-a",
      `${login}@${host}`,
      "-l",
      `${service}: ${login} on ${host}`,
      "-X",
      Array.from(new TextEncoder().encode(secret), (b) => b.toString(16).padStart(2, "0")).join(""),
    ]),
  }),
  clear: (service, host, login) => [
    "delete-generic-password",
    "-s",
    service,
    "-a",
    `${login}@${host}`,
  ],
  isMissing: (output) => output.code === 44,
  missingProgram: "the security command is missing",
};

/**
 * The session bus socket and this user's id, when Deno grants them without
 * a prompt. The D-Bus code loads only then: the file store never needs it.
 */
async function sessionBus(): Promise<{ socket: string; uid: number } | undefined> {
  const granted = (descriptor: Deno.PermissionDescriptor) =>
    Deno.permissions.querySync(descriptor).state === "granted";
  try {
    if (!granted({ name: "env", variable: "DBUS_SESSION_BUS_ADDRESS" })) return undefined;
    const address = Deno.env.get("DBUS_SESSION_BUS_ADDRESS");
    if (!address) return undefined;
    const { unixSocketPath } = await import("./secret_service.ts");
    const socket = unixSocketPath(address);
    if (
      socket === undefined || !granted({ name: "read", path: socket }) ||
      !granted({ name: "write", path: socket }) ||
      !granted({ name: "net", host: `unix:${socket}` })
    ) {
      return undefined;
    }
    const uid = ownUid();
    return uid === undefined ? undefined : { socket, uid };
  } catch {
    return undefined; // a permission Deno cannot even query: not this path
  }
}

/**
 * The item of `host` and `login` straight from the Secret Service, or
 * `undefined` when that cannot answer (then `secret-tool` does). A service
 * that does not answer in time is the same `storage` error as a hanging
 * `secret-tool`.
 */
async function directLookup(
  service: string,
  host: string,
  login: string,
  { timeout, signal }: { timeout: number; signal?: AbortSignal },
): Promise<SecretLookup | undefined> {
  const bus = await sessionBus();
  if (!bus) return undefined;
  const stop = new AbortController();
  const { lookupSecret } = await import("./secret_service.ts");
  const lookup = lookupSecret(bus.socket, { service, host, account: login }, {
    uid: bus.uid,
    signal: signal ? AbortSignal.any([stop.signal, signal]) : stop.signal,
  }).catch(() => "failed" as const);
  const result = await within(lookup, timeout);
  signal?.throwIfAborted();
  if (result === undefined) {
    stop.abort();
    throw notAnswering(timeout);
  }
  return result === "failed" || result.state === "locked" ? undefined : result;
}

function notAnswering(timeout: number): LoopauthError {
  return new LoopauthError(
    "storage",
    `The OS keyring did not answer within ${
      formatDuration(timeout)
    } (locked and waiting for a password?): unlock it, or use --storage file`,
  );
}

function platformOf(os: string): Platform | undefined {
  if (os === "darwin") return SECURITY;
  if (os === "windows") return undefined;
  return SECRET_TOOL;
}

/**
 * Whether the OS keyring answers: `{ ok: true }`, or `{ ok: false, reason }`.
 * A keyring that does not answer in time is a `storage` error.
 *
 * @example
 * ```ts ignore
 * import { probeKeyring } from "./keyring.ts";
 * const probe = await probeKeyring();
 * if (!probe.ok) console.error(probe.reason);
 * ```
 */
export async function probeKeyring(
  options: KeyringOptions = {},
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const platform = platformOf(options.os ?? Deno.build.os);
  if (!platform) {
    return { ok: false, reason: "the Windows Credential Manager is not supported yet" };
  }
  const timeout = timeoutOf(options);
  const service = (options.app ?? LOOPAUTH_APP).name;
  if (
    platform === SECRET_TOOL &&
    await directLookup(service, "probe.invalid", "loopauth-probe", {
      timeout,
      signal: options.signal,
    })
  ) {
    return { ok: true };
  }
  const output = await run(
    platform.program,
    platform.lookup(service, "probe.invalid", "loopauth-probe"),
    { timeout, signal: options.signal },
  );
  if (!output) return { ok: false, reason: platform.missingProgram };
  if (output.code === 0 || platform.isMissing(output)) return { ok: true };
  return { ok: false, reason: output.stderr || `${platform.program} exited with ${output.code}` };
}

/**
 * The OS keyring as a {@linkcode SecretStore}; each account is one item
 * (service: the app's name, `loopauth` by default; host; account) holding
 * its secrets as JSON.
 *
 * @example
 * ```ts ignore
 * import { keyringStore } from "./keyring.ts";
 * const secrets = await keyringStore().get("github.com", "octocat");
 * ```
 */
export function keyringStore(options: KeyringOptions = {}): SecretStore {
  const os = options.os ?? Deno.build.os;
  const service = (options.app ?? LOOPAUTH_APP).name;
  const platform = platformOf(os);
  const need = (): Platform => {
    if (!platform) {
      throw new LoopauthError(
        "storage",
        "The Windows Credential Manager is not supported yet: log in again with --storage file",
      );
    }
    return platform;
  };
  const call = async (
    build: (platform: Platform) => { args: string[]; stdin?: string },
  ): Promise<Output> => {
    const platform = need();
    const { args, stdin } = build(platform);
    const output = await run(platform.program, args, {
      stdin,
      timeout: timeoutOf(options),
      signal: options.signal,
    });
    if (!output) {
      throw new LoopauthError("storage", `Cannot use the OS keyring: ${platform.missingProgram}`);
    }
    return output;
  };
  const failed = (output: Output) =>
    new LoopauthError(
      "storage",
      `The OS keyring failed (${
        output.stderr || `exit code ${output.code}`
      }): check that it is running and unlocked, or use --storage file`,
    );
  return {
    name: "keyring",
    location: keyringLocation(os),
    async get(host, login) {
      const direct = platform === SECRET_TOOL
        ? await directLookup(service, host, login, {
          timeout: timeoutOf(options),
          signal: options.signal,
        })
        : undefined;
      // Only a found item is taken from the bus: none, a locked one or no bus go to secret-tool.
      let text: string;
      if (direct?.state === "found") text = direct.secret;
      else {
        const output = await call((p) => ({ args: p.lookup(service, host, login) }));
        if (need().isMissing(output)) return undefined;
        if (output.code !== 0) throw failed(output);
        text = output.stdout;
      }
      try {
        const secrets = JSON.parse(text.trim()) as Secrets;
        if (typeof secrets?.accessToken !== "string") throw new TypeError();
        return secrets;
      } catch {
        // Without its SyntaxError as cause: that quotes the item, a secret.
        throw new LoopauthError(
          "storage",
          `The keyring item of ${login} on ${host} is not loopauth's: run ${
            // An issuer's key is its https:// URL; GitHub hosts are names or http:// loopback origins.
            loginCommand(host, { issuer: host.startsWith("https://") })}`,
        );
      }
    },
    async set(host, login, secrets) {
      const output = await call((p) => p.store(service, host, login, JSON.stringify(secrets)));
      if (output.code !== 0) throw failed(output);
    },
    async delete(host, login) {
      const output = await call((p) => ({ args: p.clear(service, host, login) }));
      if (need().isMissing(output)) return false;
      if (output.code !== 0) throw failed(output);
      return true;
    },
  };
}
