/**
 * The one status line of a login while it waits (the CLI's view, and the
 * library's default `progress`): started once every route has shown itself.
 * @module
 */
import type { Flow } from "../core/types.ts";
import type { Waiting, WaitingStatus } from "../platform/status_line.ts";

/** What the login waits for, as the one status line says it. */
const LABELS = {
  web: "Waiting for the browser",
  device: "Waiting for the code to be entered",
  both: "Waiting for the browser or the code",
};

/** Options of {@linkcode waitingView}. */
export interface WaitingViewOptions {
  /** Milliseconds until the login times out. */
  timeout: number;
  /** Starts the status line (`startWaiting`, or an app's own), once. */
  start: (status: WaitingStatus) => Waiting;
}

/** The login's one status line, started once every route it runs has shown itself. */
export interface WaitingView {
  /** The routes that run (again after one dropped out). */
  expect(flows: readonly Flow[]): void;
  /** A route has shown itself; a device code brings its expiry as the deadline. */
  shown(flow: Flow, deadline?: number): void;
  /** Takes the line down for good. */
  stop(): void;
}

/**
 * The status line of a login with one or more routes: it starts when the
 * last route has printed its lines (so it comes after them in a log), says
 * what is awaited, and counts down to the earlier of the login's timeout and
 * the device code's expiry.
 *
 * @example
 * ```ts
 * import { waitingView } from "./waiting_view.ts";
 * import { startWaiting } from "../platform/status_line.ts";
 * const view = waitingView({
 *   timeout: 300_000,
 *   start: (status) => startWaiting({ ...status, tty: false }),
 * });
 * view.expect(["web"]);
 * view.shown("web");
 * view.stop();
 * ```
 */
export function waitingView(options: WaitingViewOptions): WaitingView {
  let flows: readonly Flow[] = [];
  const timesOut = Date.now() + options.timeout;
  // When each route that showed itself ends at the latest (a device code expires).
  const ends = new Map<Flow, number>();
  let waiting: Waiting | undefined;
  let stopped = false;
  const refresh = () => {
    if (stopped || flows.length === 0 || !flows.every((f) => ends.has(f))) return;
    const label = flows.length > 1 ? LABELS.both : LABELS[flows[0]];
    // The login goes on while any route does: until the last of them ends.
    const deadline = Math.max(...flows.map((f) => ends.get(f)!));
    if (waiting) return waiting.update({ label, deadline, flows });
    waiting = options.start({ label, deadline, flows });
  };
  return {
    expect(next) {
      flows = next;
      refresh();
    },
    shown(flow, at) {
      ends.set(flow, Math.min(timesOut, at ?? Infinity));
      refresh();
    },
    stop() {
      stopped = true;
      waiting?.stop();
    },
  };
}
