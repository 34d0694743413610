/**
 * The real CLI in a child process (`Deno.execPath()` + `main.ts`, the
 * documented permission flags), and logins through it against the built-in
 * provider.
 * @module
 */
import {
  actAsUser,
  type DevProvider,
  type DevProviderOptions,
  type RecordedRequest,
  startDevProvider,
} from "../../lib/dev/provider.ts";
import { childEnv, MAIN, runFlags, tempConfig } from "./env.ts";

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
  /**
   * Written to its stdin, which then stays open until it exits (as an MCP
   * client keeps mcp-proxy's); default: no stdin.
   */
  input?: string;
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
      stdin: options.input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    if (options.input !== undefined) {
      const writer = child.stdin.getWriter();
      writer.write(new TextEncoder().encode(options.input)).catch(() => {});
      // Closed once it exits, not before: the end of stdin is not what ends it.
      child.status.then(() => writer.close().catch(() => {}));
    }
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

  /**
   * Waits for the exit, bounded: a run still going after `ms` is killed and
   * fails the test (a hang is a failure, never a wait).
   */
  async output(ms = 60_000): Promise<CliOutput> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<"hung">((wake) => timer = setTimeout(() => wake("hung"), ms));
    const outcome = await Promise.race([this.#done, hung]);
    clearTimeout(timer);
    if (outcome !== "hung") return outcome;
    try {
      this.child.kill("SIGKILL");
    } catch { /* ended meanwhile */ }
    const { stderr } = await this.#done;
    throw new Error(`The CLI did not exit within ${ms / 1000} s; its stderr:\n${stderr}`);
  }
}

/** Runs the CLI to the end. */
export function runCli(
  args: string[],
  options: CliOptions,
): Promise<CliOutput> {
  return new Cli(args, options).output();
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

/**
 * `login` against a dev provider with its client id, plus `extra` flags; its
 * secret goes in the environment ({@linkcode secretEnv}), as a user gives it
 * (`--client-secret SECRET` warns).
 */
export function providerLoginArgs(provider: DevProvider, ...extra: string[]): string[] {
  return ["login", "--hostname", provider.origin, "--client-id", provider.clientId, ...extra];
}

/** `env` plus `LOOPAUTH_CLIENT_SECRET` with the dev provider's client secret (`env` wins). */
export function secretEnv(
  provider: { clientSecret: string },
  env: Record<string, string> = {},
): Record<string, string> {
  return { LOOPAUTH_CLIENT_SECRET: provider.clientSecret, ...env };
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
  const cli = new Cli(loginArgs(provider, ...extra), {
    ...options,
    env: secretEnv(provider, options.env),
  });
  const url = await cli.authorizationUrl();
  const page = await actAsUser(url);
  return { url, page, ...(await cli.output()) };
}
