/**
 * The terminal while a login waits: on a TTY one status line with a spinner
 * and the time left, redrawn in place; elsewhere (CI logs, pipes) one plain
 * line.
 * @module
 */

/** Options of {@linkcode startWaiting}. */
export interface WaitingOptions {
  /** What is awaited, e.g. "Waiting for the browser". */
  label: string;
  /** Milliseconds until the wait times out, for the countdown. */
  timeout: number;
  /** Draw the spinner (default: stderr is a terminal). */
  tty?: boolean;
  /** Use color (default: unless `NO_COLOR` is set). */
  color?: boolean;
  /** Where to write (default: stderr). */
  write?: (text: string) => void;
}

/** A status line that can be taken down. */
export interface Waiting {
  /** Stops the spinner and clears its line. */
  stop(): void;
  /**
   * Prints a line under the status line, which stays where it is and keeps
   * moving (for a prompt the user types under). `typed` counts a line the
   * user entered before it (the terminal echoed it).
   */
  log(line: string, options?: { typed?: boolean }): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Formats a countdown as `4:59`.
 *
 * @example
 * ```ts
 * import { formatClock } from "./progress.ts";
 * formatClock(299_500); // "5:00"
 * ```
 */
export function formatClock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * Shows that the CLI is waiting until `stop()` is called.
 *
 * @example
 * ```ts
 * import { startWaiting } from "./progress.ts";
 * const waiting = startWaiting({ label: "Waiting for the browser", timeout: 300_000 });
 * waiting.stop();
 * ```
 */
export function startWaiting(options: WaitingOptions): Waiting {
  const encoder = new TextEncoder();
  const write = options.write ?? ((text: string) => Deno.stderr.writeSync(encoder.encode(text)));
  const tty = options.tty ?? Deno.stderr.isTerminal();
  const color = options.color ?? !noColor();
  const deadline = Date.now() + options.timeout;
  if (!tty) {
    write(`${options.label} (times out in ${formatClock(options.timeout)}; Ctrl-C to cancel)\n`);
    return { stop() {}, log: (line) => write(`${line}\n`) };
  }
  const dim = (text: string) => color ? `\x1b[2m${text}\x1b[22m` : text;
  const cyan = (text: string) => color ? `\x1b[36m${text}\x1b[39m` : text;
  let frame = 0;
  // Lines printed under the status line since; 0: the cursor is on it.
  let below = 0;
  const draw = () => {
    const left = formatClock(deadline - Date.now());
    const line = `\r\x1b[2K${
      cyan(FRAMES[frame++ % FRAMES.length])
    } ${options.label}… ${left} left ${dim("(Ctrl-C to cancel)")}`;
    // Under other lines: save the cursor, go up, redraw, come back.
    write(below ? `\x1b7\x1b[${below}A${line}\x1b8` : line);
  };
  draw();
  const timer = setInterval(draw, 100);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      // With lines below, also clear the cursor's line (a ^C echoed there).
      write(below ? `\x1b7\x1b[${below}A\r\x1b[2K\x1b8\r\x1b[2K` : "\r\x1b[2K");
    },
    log(text, logOptions = {}) {
      if (stopped) return write(`${text}\n`);
      if (below === 0) write("\n");
      below += (below === 0 ? 1 : 0) + (logOptions.typed ? 1 : 0) + 1;
      write(`${text}\n`);
    },
  };
}

/** `NO_COLOR` as Deno read it at start-up (no env permission needed). */
function noColor(): boolean {
  return Deno.noColor;
}
