/** How a login shows the authorization URL (the CLI's view, and the library's default). @module */
import { openBrowser, type OpenResult } from "../platform/browser.ts";

/** Options of {@linkcode showUrl}. */
export interface ShowUrlOptions {
  /** Print only; do not try a browser. */
  noBrowser?: boolean;
  /** Print only the URL lines, no notes. */
  quiet?: boolean;
  /** Called when no browser opened (after the note), with the URL. */
  onNoBrowser?: (url: string) => void;
  /** Called right after the URL is printed, with the URL (more instructions go here). */
  onShown?: (url: string) => void;
  /** Where each line goes (default: stderr); the login view counts the rows it takes. */
  write?: (line: string) => void;
  /** Told whether a browser opened (and why not), once it was tried. */
  onOpened?: (result: OpenResult) => void;
}

/**
 * Returns the `openBrowser` callback of the CLI: prints the authorization
 * URL on stderr, alone on its own line (the user may copy it to another
 * machine), then tries a browser at the one-time `startUrl` (the opener's
 * arguments are readable by every local user: they must hold no `state`);
 * a failure to open one is a note, not an error.
 *
 * @example
 * ```ts
 * import { showUrl } from "./show_url.ts";
 * await showUrl("github.com", { noBrowser: true })(
 *   "https://github.com/login/oauth/authorize?…",
 *   { startUrl: "http://127.0.0.1:8000/start/…" },
 * );
 * ```
 */
export function showUrl(
  host: string,
  options: ShowUrlOptions = {},
): (url: string, context: { startUrl: string }) => Promise<void> {
  const say = options.write ?? console.error;
  return async (url, { startUrl }) => {
    say(`Open this URL in your browser to log in to ${host}:`);
    say(url);
    options.onShown?.(url);
    if (options.noBrowser) {
      options.onNoBrowser?.(url);
      return;
    }
    const { opened, reason } = await openBrowser(startUrl);
    options.onOpened?.({ opened, ...(reason === undefined ? {} : { reason }) });
    if (opened) {
      if (!options.quiet) say("Opened your browser; approve the login there");
    } else {
      if (!options.quiet) {
        say(`Note: could not open a browser (${reason}); open the URL above`);
      }
      options.onNoBrowser?.(url);
    }
  };
}
