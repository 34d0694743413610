/** How a login shows a device code on stderr (the CLI's view, and the library's default). @module */
import { openBrowser } from "../platform/browser.ts";
import type { DeviceCode } from "../core/types.ts";
import { copyToClipboard } from "../platform/clipboard.ts";
import { readEnv } from "../core/env_vars.ts";

/** Options of {@linkcode showDeviceCode}. */
export interface DeviceViewOptions {
  /** The host being logged in to, for the caution. */
  host: string;
  /** Draw a QR code of the verification URL (only on a terminal). */
  qr: boolean;
  /** Do not open a browser. */
  noBrowser: boolean;
  /** Where each line goes (default: stderr). */
  write?: (line: string) => void;
}

/** What {@linkcode showDeviceCode} leaves to its caller. */
export interface DeviceView {
  /**
   * The QR code of the page (rows of half blocks), when one was asked for
   * on a terminal: the caller draws it only where it fits whole.
   */
  qr?: string;
}

/**
 * Shows a device code on stderr: the code (copied to the clipboard when
 * possible), where to enter it and a caution against device-code phishing;
 * on a terminal it returns a QR code of the page for the caller to draw
 * where it fits. The CLI's status line counts down to its expiry.
 *
 * @example
 * ```ts
 * import { showDeviceCode } from "./device_view.ts";
 * await showDeviceCode(
 *   { deviceCode: "d", userCode: "WDJB-MJHT", verificationUri: "https://github.com/login/device", expiresIn: 900, interval: 5 },
 *   { host: "github.com", qr: false, noBrowser: true },
 * );
 * ```
 */
export async function showDeviceCode(
  code: DeviceCode,
  options: DeviceViewOptions,
): Promise<DeviceView> {
  const say = options.write ?? console.error;
  const tty = Deno.stderr.isTerminal();
  const env = readEnv(["DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "WSL_INTEROP"]);
  const copied = await copyToClipboard(code.userCode, { env });
  say(
    `First copy your one-time code: ${code.userCode}${
      copied ? ` (copied to the clipboard with ${copied})` : ""
    }`,
  );
  say(`Then open this page and enter it: ${code.verificationUri}`);
  const site = /^https?:\/\//.test(options.host) ? new URL(options.host).host : options.host;
  say(
    `Enter the code only if you started this login yourself, and only on ${site}'s own page`,
  );
  const target = code.verificationUriComplete ?? code.verificationUri;
  let qr: string | undefined;
  if (tty && options.qr) {
    try {
      const { default: QRCode } = await import("npm:qrcode@^1.5.4");
      const art: string = await QRCode.toString(target, { type: "terminal", small: true });
      qr = art.trimEnd();
    } catch {
      // Only a convenience; the URL is printed above.
    }
  }
  // The prefilled page holds the code, and a program's arguments are readable by every local
  // user (who could approve the code with their account): the browser gets the bare page.
  if (code.verificationUriComplete && !options.noBrowser) {
    const { opened } = await openBrowser(code.verificationUri);
    if (opened) say("Opened your browser at that page: enter the code there");
  }
  return { qr };
}
