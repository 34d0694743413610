/**
 * The CLI in a real terminal: a detached tmux session on its own socket,
 * its screen read with capture-pane.
 * @module
 */
import type { CliOptions } from "./cli.ts";
import { childEnv, MAIN, runFlags, tempDir } from "./env.ts";

/** The CLI in a real terminal: a detached tmux session on its own socket. */
export class Tmux implements AsyncDisposable {
  readonly socket: string;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /**
   * Starts the CLI (or `script`, a program of a test's own) with `args` in a
   * terminal of `columns` (default 200) × `rows` (default 60).
   */
  static async start(
    args: string[],
    options: CliOptions & { columns?: number; rows?: number; script?: string },
  ): Promise<Tmux> {
    const socket = `${await tempDir("tmux")}/socket`;
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
      options.script ?? MAIN,
      ...args,
    ].map(shellQuote).join(" ");
    // The pane stays after the exit, showing the code.
    await tmux.run(
      "new-session",
      "-d",
      "-x",
      String(options.columns ?? 200),
      "-y",
      String(options.rows ?? 60),
      `${command}; echo "[exit $?]"; sleep 600`,
    );
    return tmux;
  }

  /** Runs a tmux command on this session's socket. */
  async run(...args: string[]): Promise<string> {
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command("tmux", {
        // No ~/.tmux.conf, and bash for the pane whatever the user's login shell.
        args: ["-f", "/dev/null", "-S", this.socket, ...args],
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? "/tmp",
          SHELL: "/bin/bash", // the tests need bash anyway; its -c survives the Ctrl-C its child handles
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
    // `--`: a text that starts with "-" (a random code may) is typed, not taken for a flag.
    await this.run("send-keys", "-l", "--", text);
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
