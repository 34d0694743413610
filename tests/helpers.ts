/**
 * Helpers for tests that run the real CLI (`Deno.execPath()` + `main.ts`)
 * with the exact permission flags documented in README.md.
 * @module
 */
import assert from "node:assert/strict";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import {
  actAsUser,
  type DevProvider,
  type DevProviderOptions,
  type RecordedRequest,
  startDevProvider,
} from "../lib/dev/provider.ts";
import { runFlags as documentedRunFlags, TEST_TMP } from "../scripts/permissions.ts";

/** main.ts of this checkout. */
export const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/** The checkout's root directory. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where tests keep temporary files (see scripts/permissions.ts TEST_TMP). */
export const TEST_TMP_DIR = fileURLToPath(new URL(`../${TEST_TMP}/`, import.meta.url));

/**
 * The documented `deno run` flags for a config directory (every subcommand,
 * demo included), with the loopback-only network of the tests; with the
 * session bus of `env` (a test keyring's), as the documented flags name the
 * user's.
 */
export function runFlags(configDir: string, env: Record<string, string> = {}): string[] {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  const bus = address === undefined ? undefined : /^unix:path=([^,;]+)/.exec(address)?.[1];
  return ["--no-prompt", ...documentedRunFlags(configDir, [], { bus })];
}

/** A temporary XDG_CONFIG_HOME, removed with `using`. */
export async function tempConfig(): Promise<{ home: string; dir: string } & AsyncDisposable> {
  await Deno.mkdir(TEST_TMP_DIR, { recursive: true });
  const home = await Deno.makeTempDir({ dir: TEST_TMP_DIR, prefix: "loopauth-test-" });
  return {
    home,
    dir: `${home}/loopauth`,
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }),
  };
}

/**
 * What a child process needs from the OS whatever it runs: on Windows,
 * `SystemRoot` (without it a child cannot open a socket).
 */
export function platformEnv(): Record<string, string> {
  if (Deno.build.os !== "windows") return {};
  const systemRoot = Deno.env.get("SystemRoot");
  return systemRoot ? { SystemRoot: systemRoot } : {};
}

/** Environment for a CLI child: nothing from the developer's session leaks in. */
export function childEnv(
  xdgConfigHome: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    ...platformEnv(),
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? xdgConfigHome,
    XDG_CONFIG_HOME: xdgConfigHome,
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return { ...env, ...extra };
}

/** The result of a finished CLI run. */
export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to start the CLI. */
export interface CliOptions {
  /** XDG_CONFIG_HOME of the run. */
  configHome: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Permission flags (default: {@linkcode runFlags} for the config dir). */
  flags?: string[];
  /** Another way to start loopauth: program and its first arguments (flags are ignored). */
  command?: [string, ...string[]];
  /** Working directory of the child. */
  cwd?: string;
}

/** A running CLI whose stderr can be awaited line by line. */
export class Cli {
  readonly child: Deno.ChildProcess;
  readonly stderrLines: string[] = [];
  #stdout = "";
  #waiters: (() => void)[] = [];
  #done: Promise<CliOutput>;

  constructor(args: string[], options: CliOptions) {
    const [program, ...first] = options.command ??
      [
        Deno.execPath(),
        "run",
        ...(options.flags ?? runFlags(`${options.configHome}/loopauth`, options.env)),
        MAIN,
      ];
    const child = new Deno.Command(program, {
      args: [...first, ...args],
      cwd: options.cwd,
      env: childEnv(options.configHome, options.env),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    const stdout = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        this.#stdout += chunk;
      }
    })();
    const stderr = (async () => {
      let buffer = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        const lines = buffer.split("\n");
        buffer = lines.pop()!;
        this.stderrLines.push(...lines);
        this.#waiters.splice(0).forEach((wake) => wake());
      }
      if (buffer) this.stderrLines.push(buffer);
      this.#waiters.splice(0).forEach((wake) => wake());
    })();
    this.#done = (async () => {
      const [status] = await Promise.all([child.status, stdout, stderr]);
      return { code: status.code, stdout: this.#stdout, stderr: this.stderrLines.join("\n") };
    })();
  }

  /** Waits for a stderr line matching `pattern` (fails after `ms`). */
  async waitForLine(pattern: RegExp, ms = 15_000): Promise<string> {
    const deadline = Date.now() + ms;
    let finished = false;
    this.#done.then(() => finished = true);
    while (true) {
      const line = this.stderrLines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (finished) {
        throw new Error(
          `CLI exited without a line matching ${pattern}:\n${this.stderrLines.join("\n")}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`No line matching ${pattern} in ${ms} ms:\n${this.stderrLines.join("\n")}`);
      }
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  /** The authorization URL the CLI printed. */
  authorizationUrl(): Promise<string> {
    return this.waitForLine(/^https?:\/\/\S+\/login\/oauth\/authorize\?/);
  }

  /** Waits for the exit. */
  output(): Promise<CliOutput> {
    return this.#done;
  }
}

/** Runs the CLI to the end. */
export function runCli(
  args: string[],
  options: CliOptions,
): Promise<CliOutput> {
  return new Cli(args, options).output();
}

/** Sends a raw HTTP/1.x request and returns the status code (0 when the server closed without one). */
export async function rawRequest(port: number, request: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

/** Whether something listens on 127.0.0.1:port. */
export async function isListening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** The secrets a login stored in the file backend (`tokens.json`) under `configHome`. */
export async function storedSecrets(configHome: string, host: string, login = "octocat") {
  const data = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/tokens.json`));
  return data.hosts[host][login] as {
    accessToken: string;
    refreshToken?: string;
    expiresAt?: string;
  };
}

/** The grant type of a token request (`authorization_code` when it names none but has a code). */
export function grantType(request: RecordedRequest): string {
  const params = new URLSearchParams(request.body);
  return params.get("grant_type") ?? (params.has("code") ? "authorization_code" : "");
}

/** The token requests a dev provider received, in order; only those of `grant` when given. */
export function tokenRequests(provider: DevProvider, grant?: string): RecordedRequest[] {
  return provider.requests.filter((r) =>
    r.path === "/login/oauth/access_token" && (grant === undefined || grantType(r) === grant)
  );
}

/** `login` with the browser flow against a dev provider, without a browser, plus `extra` flags. */
export function loginArgs(provider: DevProvider, ...extra: string[]): string[] {
  return providerLoginArgs(provider, "--no-browser", "--web", ...extra);
}

/** `login` against a dev provider with its client id and secret, plus `extra` flags. */
export function providerLoginArgs(provider: DevProvider, ...extra: string[]): string[] {
  return [
    "login",
    "--hostname",
    provider.origin,
    "--client-id",
    provider.clientId,
    "--client-secret",
    provider.clientSecret,
    ...extra,
  ];
}

/** A private Secret Service (D-Bus session bus + gnome-keyring) for tests. */
export interface TestKeyring extends AsyncDisposable {
  /** Environment that points `secret-tool` at this keyring. */
  env: Record<string, string>;
  /** Directory holding the bus socket and the (encrypted) keyring files. */
  dir: string;
  /** What `secret-tool lookup` returns for an account, or `undefined`. */
  lookup(host: string, login: string): Promise<string | undefined>;
}

/**
 * Starts `dbus-daemon --session` and an unlocked `gnome-keyring-daemon` in a
 * temporary directory. Throws with a clear message when they cannot start
 * (the tests fail rather than skip).
 */
export async function startKeyring(): Promise<TestKeyring> {
  const dir = await Deno.makeTempDir({ dir: TEST_TMP_DIR, prefix: "loopauth-keyring-" });
  const base = {
    HOME: dir,
    XDG_RUNTIME_DIR: `${dir}/run`,
    XDG_DATA_HOME: `${dir}/data`,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  };
  await Deno.mkdir(base.XDG_RUNTIME_DIR, { mode: 0o700 });
  const children: Deno.ChildProcess[] = [];
  const close = async () => {
    for (const child of children.reverse()) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    let bus: Deno.ChildProcess;
    try {
      bus = new Deno.Command("dbus-daemon", {
        args: ["--session", "--nofork", "--nopidfile", "--print-address=1"],
        env: base,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
    } catch (error) {
      throw new Error(
        `Cannot start dbus-daemon for the keyring tests (Debian: apt install dbus-daemon gnome-keyring libsecret-tools): ${error}`,
      );
    }
    children.push(bus);
    const reader = bus.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let address = "";
    while (!address.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("dbus-daemon exited without printing its address");
      address += value;
    }
    reader.releaseLock();
    bus.stdout.cancel().catch(() => {});
    const env = { ...base, DBUS_SESSION_BUS_ADDRESS: address.trim() };
    const keyring = new Deno.Command("gnome-keyring-daemon", {
      args: ["--foreground", "--unlock", "--components=secrets"],
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(keyring);
    const writer = keyring.stdin.getWriter();
    await writer.write(new TextEncoder().encode("test-password"));
    await writer.close();
    const secretTool = (args: string[], stdin?: string) => {
      const child = new Deno.Command("secret-tool", {
        args,
        env,
        clearEnv: true,
        stdin: stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (stdin !== undefined) {
        const w = child.stdin.getWriter();
        w.write(new TextEncoder().encode(stdin)).then(() => w.close());
      }
      return child.output();
    };
    const deadline = Date.now() + 10_000;
    while (true) {
      const ready = await secretTool(["store", "--label=ready", "loopauth-test", "ready"], "1");
      if (ready.success) break;
      if (Date.now() > deadline) {
        throw new Error(
          `gnome-keyring did not start: ${new TextDecoder().decode(ready.stderr).trim()}`,
        );
      }
      await new Promise((wake) => setTimeout(wake, 50));
    }
    return {
      env: { DBUS_SESSION_BUS_ADDRESS: env.DBUS_SESSION_BUS_ADDRESS },
      dir,
      async lookup(host, login) {
        const output = await secretTool([
          "lookup",
          "service",
          "loopauth",
          "host",
          host,
          "account",
          login,
        ]);
        return output.success ? new TextDecoder().decode(output.stdout) : undefined;
      },
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Every file under `dir` whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const bytes = new TextEncoder().encode(needle);
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(child);
      else if (entry.isFile) {
        const data = await Deno.readFile(child);
        if (indexOf(data, bytes) >= 0) found.push(child);
      }
    }
  };
  await walk(dir);
  return found;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Waits (bounded) until `check` holds; checks every 20 ms. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  { ms = 15_000, what = "the condition" }: { ms?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

/** Runs `fn` with a started provider (auto-approving by default) and a temporary config. */
export async function withProvider<T>(
  fn: (provider: DevProvider, configHome: string, configDir: string) => Promise<T>,
  options: DevProviderOptions = {},
): Promise<T> {
  const provider = startDevProvider({ autoApprove: true, ...options });
  await using config = await tempConfig();
  try {
    return await fn(provider, config.home, config.dir);
  } finally {
    await provider.close();
  }
}

/** Logs in through the CLI; returns the run's output and the URL it printed. */
export async function loginOnce(
  provider: DevProvider,
  configHome: string,
  ...extra: string[]
): Promise<CliOutput & { url: string; page: { status: number; body: string } }> {
  return await loginWith(provider, { configHome }, ...extra);
}

/** {@linkcode loginOnce} with other CLI options (environment, flags). */
export async function loginWith(
  provider: DevProvider,
  options: CliOptions,
  ...extra: string[]
): Promise<CliOutput & { url: string; page: { status: number; body: string } }> {
  const cli = new Cli(loginArgs(provider, ...extra), options);
  const url = await cli.authorizationUrl();
  const page = await actAsUser(url);
  return { url, page, ...(await cli.output()) };
}

/** The CLI in a real terminal: a detached tmux session on its own socket. */
export class Tmux implements AsyncDisposable {
  readonly socket: string;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** Starts the CLI with `args` in a terminal of `columns` (default 200) × 60. */
  static async start(args: string[], options: CliOptions & { columns?: number }): Promise<Tmux> {
    const socket = `${await Deno.makeTempDir({
      dir: TEST_TMP_DIR,
      prefix: "loopauth-tmux-",
    })}/socket`;
    const tmux = new Tmux(socket);
    const env = Object.entries({ ...childEnv(options.configHome, options.env), TERM: "xterm" })
      .map(([key, value]) => `${key}=${value}`);
    const command = [
      "env",
      "-i",
      ...env,
      Deno.execPath(),
      "run",
      ...(options.flags ?? runFlags(`${options.configHome}/loopauth`, options.env)),
      MAIN,
      ...args,
    ].map(shellQuote).join(" ");
    // The pane stays after the exit, showing the code.
    await tmux.run(
      "new-session",
      "-d",
      "-x",
      String(options.columns ?? 200),
      "-y",
      "60",
      `${command}; echo "[exit $?]"; sleep 600`,
    );
    return tmux;
  }

  /** Runs a tmux command on this session's socket. */
  async run(...args: string[]): Promise<string> {
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command("tmux", {
        args: ["-S", this.socket, ...args],
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? "/tmp",
        },
        clearEnv: true,
        stdin: "null",
      }).output();
    } catch (error) {
      throw new Error(
        `Cannot run tmux (${error}): install it (Debian package tmux) to run the terminal tests`,
      );
    }
    const text = new TextDecoder().decode(output.stdout);
    if (!output.success) {
      throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    return text;
  }

  /** The screen, wrapped lines joined. */
  screen(): Promise<string> {
    return this.run("capture-pane", "-p", "-J");
  }

  /** Waits until the screen matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, ms = 15_000): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await this.waitUntil((screen) => (match = pattern.exec(screen)) !== null, ms, `${pattern}`);
    return match!;
  }

  /** Waits (bounded) until `check` holds for the screen; returns that screen. */
  async waitUntil(
    check: (screen: string) => boolean,
    ms = 15_000,
    what = "the expected screen",
  ): Promise<string> {
    const deadline = Date.now() + ms;
    while (true) {
      const screen = await this.screen();
      if (check(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`No ${what} on the screen:\n${screen}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  /** Types `text` and presses Enter. */
  async typeLine(text: string): Promise<void> {
    await this.run("send-keys", "-l", text);
    await this.run("send-keys", "Enter");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.run("kill-server").catch(() => {});
    await Deno.remove(this.socket.replace(/\/socket$/, ""), { recursive: true }).catch(() => {});
  }
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".json": "application/json",
};

/** Serves main.ts and lib/ of the checkout, read-only, on 127.0.0.1. */
export function serveCheckout(): Deno.HttpServer<Deno.NetAddr> & { origin: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = normalize(decodeURIComponent(new URL(request.url).pathname)).replace(
      /^[/\\]+/,
      "",
    );
    const type = TYPES[extname(path)];
    if (!type || !(path === "main.ts" || /^lib[/\\]/.test(path))) {
      return new Response("Not found", { status: 404 });
    }
    try {
      return new Response(await Deno.readFile(join(ROOT, path)), {
        headers: { "content-type": type },
      });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
  return Object.assign(server, { origin: `http://127.0.0.1:${server.addr.port}` });
}

/**
 * A new empty directory outside the checkout (no deno.json above it). The
 * tests may write only in the checkout, so a Deno child creates and removes it.
 */
export async function emptyDir(): Promise<{ path: string } & AsyncDisposable> {
  const made = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "console.log(Deno.makeTempDirSync({ prefix: 'loopauth-url-' }))"],
    stdout: "piped",
  }).output();
  const path = new TextDecoder().decode(made.stdout).trim();
  assert.ok(made.success && path, "created an empty directory");
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      await new Deno.Command(Deno.execPath(), {
        args: ["eval", `Deno.removeSync(${JSON.stringify(path)}, { recursive: true })`],
      }).output();
    },
  };
}
