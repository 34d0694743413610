/**
 * The terminal while a login waits (the CLI's view, and the library's
 * default `progress`): on a TTY one status line with a spinner and the time
 * left, pinned to the terminal's bottom row while everything else (the URL,
 * the device code, the paste-back prompt and what the user types) scrolls
 * above it; elsewhere (CI logs, pipes) one plain line.
 * @module
 */
import type { Flow } from "../core/types.ts";

/** What a login waits for, as its progress view is told it. */
export interface WaitingStatus {
  /** What is awaited, e.g. "Waiting for the browser". */
  label: string;
  /** When the wait times out (ms since the epoch), for the countdown. */
  deadline: number;
  /** The routes being waited for (`web`, `device`). */
  flows?: readonly Flow[];
}

/** Options of {@linkcode startWaiting}: the status, and where and how to draw it. */
export interface WaitingOptions extends WaitingStatus {
  /** Draw the spinner (default: stderr is a terminal). */
  tty?: boolean;
  /** Use color (default: unless `NO_COLOR` is set). */
  color?: boolean;
  /** Where to write (default: stderr). */
  write?: (text: string) => void;
  /** The terminal's size (default: `Deno.consoleSize()`); `undefined` when unknown. */
  size?: () => { columns: number; rows: number } | undefined;
}

/** A status line that can be changed and taken down. */
export interface Waiting {
  /** Stops the spinner and clears its line, leaving the screen as it was. */
  stop(): void;
  /** Changes what is awaited, or the deadline (ms since the epoch) it counts down to. */
  update(change: Partial<WaitingStatus>): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Formats a countdown as `4:59`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatClock } from "./status_line.ts";
 * assert.equal(formatClock(299_500), "5:00");
 * ```
 */
export function formatClock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * Shows that a login is waiting until `stop()` is called: the CLI's status
 * line, and the library's default `progress` (`login()`'s option).
 *
 * On a terminal the status line lives on the bottom row, outside a scroll
 * region that holds every other line (as apt's progress bar does): its
 * redraws never touch the lines above, however they wrap and whatever the
 * user is typing, and `stop()` gives the row and the region back.
 *
 * @example
 * ```ts
 * import { startWaiting } from "./status_line.ts";
 * const waiting = startWaiting({
 *   label: "Waiting for the browser",
 *   deadline: Date.now() + 300_000,
 *   tty: false,
 * });
 * waiting.stop();
 * ```
 */
export function startWaiting(options: WaitingOptions): Waiting {
  const encoder = new TextEncoder();
  const write = options.write ?? ((text: string) => Deno.stderr.writeSync(encoder.encode(text)));
  const tty = options.tty ?? Deno.stderr.isTerminal();
  const color = options.color ?? !Deno.noColor;
  const size = options.size ?? consoleSize;
  let label = options.label;
  let deadline = options.deadline;
  const update: Waiting["update"] = (change) => {
    label = change.label ?? label;
    deadline = change.deadline ?? deadline;
  };
  const first = tty ? size() : undefined;
  if (!first || first.rows < 3 || first.columns < 20) {
    write(`${label} (times out in ${formatClock(deadline - Date.now())}; Ctrl-C to cancel)\n`);
    return { stop() {}, update };
  }
  const dim = (text: string) => color ? `\x1b[2m${text}\x1b[22m` : text;
  const cyan = (text: string) => color ? `\x1b[36m${text}\x1b[39m` : text;
  let rows = 0;
  const region = (height: number) => {
    rows = height;
    write(`\x1b7\x1b[1;${rows - 1}r\x1b8`);
  };
  // A free bottom row (scrolling if the cursor is on it), then the region above it.
  write("\n");
  region(first.rows);
  write("\x1b[1A");
  let frame = 0;
  const draw = () => {
    const now = size() ?? first;
    if (now.rows !== rows && now.rows >= 3) {
      // Resized: clear the old and the new status row, pin the region to the new bottom.
      write(`\x1b7\x1b[${Math.min(rows, now.rows)};1H\x1b[2K\x1b[${now.rows};1H\x1b[2K\x1b8`);
      region(now.rows);
    }
    const spinner = FRAMES[frame++ % FRAMES.length];
    const body = ` ${label}… ${formatClock(deadline - Date.now())} left`;
    const hint = " (Ctrl-C to cancel)";
    // Measured against the width: a status row that wrapped would scroll the screen.
    const plain = `${spinner}${body}${hint}`;
    const painted = [...plain].length < now.columns
      ? `${cyan(spinner)}${body}${dim(hint)}`
      : fit(plain, now.columns - 1);
    write(`\x1b7\x1b[${rows};1H\x1b[2K${painted}\x1b8`);
  };
  // Clear the status row and give the whole screen back to scrolling.
  const unpin = () => write(`\x1b7\x1b[${rows};1H\x1b[2K\x1b[r\x1b8`);
  draw();
  let timer = setInterval(draw, 100);
  // Exits that skip stop() (Deno.exit on a second Ctrl-C, SIGTERM) and a suspend
  // must not leave the shell with a scroll region.
  const guard = terminalGuard({
    restore: () => {
      clearInterval(timer);
      unpin();
    },
    resume: () => {
      region(rows);
      draw();
      timer = setInterval(draw, 100);
    },
  });
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      guard.remove();
      // Also clear the cursor's own row (a ^C the terminal echoed there).
      unpin();
      write("\r\x1b[2K");
    },
    update,
  };
}

/**
 * Gives the terminal back on the exits that skip `stop()`: `unload` (also
 * after `Deno.exit`), SIGTERM (then exits 143, as the signal would have) and
 * Ctrl-Z (suspends, and `resume` pins the line again on SIGCONT).
 */
function terminalGuard(
  { restore, resume }: { restore: () => void; resume: () => void },
): { remove: () => void } {
  const onUnload = () => restore();
  const onTerm = () => {
    restore();
    Deno.exit(143);
  };
  let suspended = false;
  const onStop = () => {
    suspended = true;
    restore();
    Deno.kill(Deno.pid, "SIGSTOP");
  };
  const onContinue = () => {
    if (!suspended) return;
    suspended = false;
    resume();
  };
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGTERM", onTerm],
    ["SIGTSTP", onStop],
    ["SIGCONT", onContinue],
  ];
  globalThis.addEventListener("unload", onUnload);
  const added = listeners.filter(([signal, listener]) => {
    try {
      Deno.addSignalListener(signal, listener);
      return true;
    } catch {
      return false; // Windows has none of these
    }
  });
  return {
    remove() {
      globalThis.removeEventListener("unload", onUnload);
      for (const [signal, listener] of added) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** `text` cut to `columns` characters (every character here is one column wide). */
function fit(text: string, columns: number): string {
  const chars = [...text];
  return chars.length <= columns ? text : `${chars.slice(0, Math.max(0, columns - 1)).join("")}…`;
}

function consoleSize(): { columns: number; rows: number } | undefined {
  try {
    return Deno.consoleSize();
  } catch {
    return undefined;
  }
}
