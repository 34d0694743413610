/**
 * Helpers for tests that run the real CLI (`Deno.execPath()` + `main.ts`)
 * with the exact permission flags documented in README.md.
 * @module
 */
import { fileURLToPath } from "node:url";
import type { DevProvider } from "../lib/dev_provider.ts";

/** The environment variables loopauth reads (README "Permissions"). */
export const ENV_VARS = [
  "HOME",
  "USERPROFILE",
  "APPDATA",
  "XDG_CONFIG_HOME",
  "BROWSER",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "WSL_DISTRO_NAME",
  "WSL_INTEROP",
  "SSH_CONNECTION",
  "SSH_CLIENT",
  "SSH_TTY",
  "TEMP",
  "LOOPAUTH_CLIENT_ID",
  "LOOPAUTH_CLIENT_SECRET",
  "LOOPAUTH_DEBUG",
];

/** Files that tell a container (read only to choose the login flow). */
export const CONTAINER_MARKERS = ["/.dockerenv", "/run/.containerenv", "/proc/1/cgroup"];

/** main.ts of this checkout. */
export const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/**
 * The documented `deno run` flags for a config directory, plus the
 * loopback-only network of the tests.
 */
export function runFlags(configDir: string): string[] {
  return [
    "--no-prompt",
    "--allow-net=127.0.0.1",
    `--allow-env=${ENV_VARS.join(",")}`,
    `--allow-read=${[configDir, ...CONTAINER_MARKERS].join(",")}`,
    `--allow-write=${configDir}`,
    "--allow-run",
  ];
}

/** The documented flags of `deno task demo` (its files live under /tmp). */
export function demoFlags(): string[] {
  return [
    "--no-prompt",
    "--allow-net=127.0.0.1",
    `--allow-env=${ENV_VARS.join(",")}`,
    "--allow-read=/tmp",
    "--allow-write=/tmp",
    "--allow-run",
  ];
}

/** A temporary XDG_CONFIG_HOME, removed with `using`. */
export async function tempConfig(): Promise<{ home: string; dir: string } & AsyncDisposable> {
  const home = await Deno.makeTempDir({ prefix: "loopauth-test-" });
  return {
    home,
    dir: `${home}/loopauth`,
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }),
  };
}

/** Environment for a CLI child: nothing from the developer's session leaks in. */
export function childEnv(
  xdgConfigHome: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
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
}

/** A running CLI whose stderr can be awaited line by line. */
export class Cli {
  readonly child: Deno.ChildProcess;
  readonly stderrLines: string[] = [];
  #stdout = "";
  #waiters: (() => void)[] = [];
  #done: Promise<CliOutput>;

  constructor(args: string[], options: CliOptions) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...(options.flags ?? runFlags(`${options.configHome}/loopauth`)),
        MAIN,
        ...args,
      ],
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

/** The CLI in a real terminal: a detached tmux session on its own socket. */
export class Tmux implements AsyncDisposable {
  readonly socket: string;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** Starts the CLI with `args` in a 200×60 terminal. */
  static async start(args: string[], options: CliOptions): Promise<Tmux> {
    const socket = `${await Deno.makeTempDir({ prefix: "loopauth-tmux-" })}/socket`;
    const tmux = new Tmux(socket);
    const env = Object.entries({ ...childEnv(options.configHome, options.env), TERM: "xterm" })
      .map(([key, value]) => `${key}=${value}`);
    const command = [
      "env",
      "-i",
      ...env,
      Deno.execPath(),
      "run",
      ...(options.flags ?? runFlags(`${options.configHome}/loopauth`)),
      MAIN,
      ...args,
    ].map(shellQuote).join(" ");
    // The pane stays after the exit, showing the code.
    await tmux.run(
      "new-session",
      "-d",
      "-x",
      "200",
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
    const deadline = Date.now() + ms;
    while (true) {
      const screen = await this.screen();
      const match = pattern.exec(screen);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`No ${pattern} on the screen:\n${screen}`);
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
