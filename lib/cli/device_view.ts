/** How the CLI shows a device code on stderr. @module */
import { openBrowser } from "../browser.ts";
import { copyToClipboard } from "../clipboard.ts";
import { readEnv } from "../env_vars.ts";
import type { DeviceCode } from "../providers/github.ts";

/** Options of {@linkcode showDeviceCode}. */
export interface DeviceViewOptions {
  /** Draw a QR code of the verification URL (only on a terminal). */
  qr: boolean;
  /** Whether to draw a live countdown to expiry (only on a terminal). */
  countdown: () => boolean;
  /** Do not open a browser. */
  noBrowser: boolean;
}

/**
 * Returns the `onDeviceCode` callback of the CLI: the code and where to enter
 * it, copied to the clipboard when possible; on a terminal also a QR code
 * and a countdown that stops when the flow ends.
 *
 * @example
 * ```ts
 * import { showDeviceCode } from "./device_view.ts";
 * const show = showDeviceCode({ qr: true, countdown: () => true, noBrowser: false });
 * ```
 */
export function showDeviceCode(
  options: DeviceViewOptions,
): (code: DeviceCode, context: { signal: AbortSignal }) => Promise<void> {
  return async (code, { signal }) => {
    const tty = Deno.stderr.isTerminal();
    const env = readEnv(["DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "WSL_INTEROP"]);
    const copied = await copyToClipboard(code.userCode, { env });
    console.error(
      `First copy your one-time code: ${code.userCode}${
        copied ? ` (copied to the clipboard with ${copied})` : ""
      }`,
    );
    console.error(`Then open this page and enter it: ${code.verificationUri}`);
    const target = code.verificationUriComplete ?? code.verificationUri;
    if (tty && options.qr) {
      try {
        const { default: QRCode } = await import("npm:qrcode@^1.5.4");
        const art: string = await QRCode.toString(target, { type: "terminal", small: true });
        console.error(`Or scan this with your phone:\n${art.trimEnd()}`);
      } catch {
        // Only a convenience; the URL is printed above.
      }
    }
    if (code.verificationUriComplete && !options.noBrowser) {
      const { opened } = await openBrowser(code.verificationUriComplete);
      if (opened) console.error("Opened your browser at that page with the code filled in");
    }
    const expires = Date.now() + code.expiresIn * 1000;
    if (!(tty && options.countdown())) {
      console.error(`Waiting for the code to be entered (it expires in ${clock(expires)})`);
      return;
    }
    const encoder = new TextEncoder();
    const draw = () =>
      Deno.stderr.writeSync(
        encoder.encode(`\r\x1b[2KWaiting for the code to be entered: ${clock(expires)} left`),
      );
    draw();
    const timer = setInterval(draw, 1000);
    signal.addEventListener("abort", () => {
      clearInterval(timer);
      Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    }, { once: true });
  };
}

/** `m:ss` until `at`. */
function clock(at: number): string {
  const seconds = Math.max(0, Math.round((at - Date.now()) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
