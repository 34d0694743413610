/**
 * Issue 30, item 4: a default login (every route, no flow flag) in a real
 * terminal (tmux) at 80×24 and 120×40, against the built-in provider.
 * Everything the user must act on is on the screen at once: the device code
 * and its page, the browser URL, the paste-back prompt and the status line;
 * the QR code is drawn only when it fits whole, else one line says so; the
 * routes' lines come in the same order every run. A login that falls back
 * to the plain-text file says so in one row of an 80-column terminal.
 */
import assert from "node:assert/strict";
import { approveDeviceCode } from "../../lib/dev/provider.ts";
import { emptyDir, providerLoginArgs, secretEnv, Tmux, withProvider } from "../helpers.ts";

const STATUS = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the browser or the code… \d+:\d\d left/;
/** The first words of each line a default login prints, in the order expected. */
const MARKERS = [
  "Logging in with the device flow, the browser flow and paste-back",
  "First copy your one-time code: ",
  "Then open this page and enter it: ",
  "Enter the code only if you started this login yourself",
  "Open this URL in your browser to log in to ",
  "http://127.0.0.1:",
  "Note: could not open a browser",
];

/** The rows the QR code takes on `screen` (half and full blocks only). */
function qrRows(screen: string): string[] {
  return screen.split("\n").filter((line) => /^[ ▀▄█]{20,}$/.test(line) && /[▀▄█]/.test(line));
}

/** One default login at `columns` × `rows`: the screen once it waits, then the login ends by the device route. */
async function waitingScreen(columns: number, rows: number): Promise<string> {
  let waiting = "";
  await withProvider(async (provider, configHome) => {
    await using tmux = await Tmux.start(providerLoginArgs(provider), {
      configHome,
      columns,
      rows,
      env: secretEnv(provider),
    });
    waiting = await tmux.waitUntil((screen) =>
      STATUS.test(screen) && /paste the address it ends up at/.test(screen)
    );
    const [, userCode] = /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(waiting) ?? [];
    assert.ok(userCode, `the device code is on the screen:\n${waiting}`);
    // The authorization URL is there whole (wrapped rows joined by capture-pane -J).
    assert.match(
      waiting,
      /^http:\/\/127\.0\.0\.1:\d+\/login\/oauth\/authorize\?\S+code_challenge_method=S256$/m,
    );
    assert.match(waiting, new RegExp(`enter it: ${provider.origin}/login/device$`, "m"));
    const lines = waiting.trimEnd().split("\n");
    assert.match(lines.at(-1)!, STATUS, "the status line is the bottom row");
    await approveDeviceCode(provider.origin, userCode);
    const done = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
    assert.match(done, /\[exit 0\]/, done);
  }, { autoApprove: false, deviceInterval: 0.2 });
  return waiting;
}

/** The order in which the markers' lines appear on `screen`. */
function order(screen: string): string[] {
  const lines = screen.split("\n");
  return MARKERS.filter((marker) => lines.some((line) => line.startsWith(marker)))
    .sort((a, b) =>
      lines.findIndex((line) => line.startsWith(a)) - lines.findIndex((line) => line.startsWith(b))
    );
}

Deno.test("80×24: the code, its page, the browser URL and the status line fit; no half QR code, one line instead that names a height that shows it; same order every run", async () => {
  const first = await waitingScreen(80, 24);
  assert.deepEqual(order(first), MARKERS, first);
  assert.deepEqual(qrRows(first), [], `no QR code rows:\n${first}`);
  assert.match(
    first,
    /^No room for the QR code of the device page: a terminal of \d+ rows shows it$/m,
  );
  const [, needed] = /a terminal of (\d+) rows/.exec(first)!;
  assert.ok(Number(needed) > 24, needed);
  // The note's figure works as printed: a terminal that tall shows the QR code whole.
  const tall = await waitingScreen(80, Number(needed));
  assert.ok(qrRows(tall).length >= 10, `a QR code at 80×${needed}:\n${tall}`);
  assert.match(qrRows(tall).at(-1)!, /^▀+$/, "its last row too");
  assert.match(tall, /one-time code: [A-Z]{4}-[A-Z]{4}$/m, "and the code above it");
  assert.match(tall, /^Logging in with /m, "and the first line");
  // Run to run the same lines in the same order.
  const second = await waitingScreen(80, 24);
  assert.deepEqual(order(second), MARKERS, second);
});

Deno.test("120×40: the QR code is drawn whole below the routes' lines, with the code and the URL still on screen", async () => {
  const screen = await waitingScreen(120, 40);
  assert.deepEqual(order(screen), MARKERS, screen);
  const qr = qrRows(screen);
  assert.ok(qr.length >= 10, `QR code rows: ${qr.length}\n${screen}`);
  const lines = screen.split("\n");
  const caption = lines.findIndex((line) =>
    line === "Or scan this with your phone to open the device page:"
  );
  assert.ok(caption > lines.findIndex((line) => line.startsWith("Note: could not open")), screen);
  // Whole: its top rows right under the caption, its last row (the bottom quiet zone) present.
  assert.equal(lines[caption + 1], qr[0]);
  assert.match(qr.at(-1)!, /^▀+$/);
  assert.doesNotMatch(screen, /No room for the QR code/);
});

Deno.test("80×24: a default login that falls back to the plain-text file (no keyring, no agent) shows its warning on one row", async () => {
  await withProvider(async (provider) => {
    // A user's home with the default config directory, ~/.config/loopauth.
    await using home = await emptyDir();
    const configHome = `${home.path}/.config`;
    await Deno.mkdir(configHome, { mode: 0o700 });
    await Deno.chmod(configHome, 0o700);
    await using tmux = await Tmux.start(providerLoginArgs(provider), {
      configHome,
      columns: 80,
      rows: 24,
      env: secretEnv(provider, { HOME: home.path }),
    });
    const [, userCode] = await tmux.waitFor(/one-time code: ([A-Z]{4}-[A-Z]{4})/);
    await approveDeviceCode(provider.origin, userCode);
    await tmux.waitFor(/\[exit \d+\]/);
    // The rows as the terminal shows them (not joined): the warning is one of them, whole.
    const rows = (await tmux.run("capture-pane", "-p")).split("\n");
    const warning = "Warning: token in plain text (mode 0600) at ~/.config/loopauth/tokens.json";
    assert.ok(rows.includes(warning), `the warning on one row:\n${rows.join("\n")}`);
    assert.ok(rows.includes("[exit 0]"), rows.join("\n"));
    // The way out follows it, and works as printed: tests/cli/agent_test.ts runs it.
    assert.match(
      rows[rows.indexOf(warning) + 1],
      /^Keep tokens in memory instead: run loopauth agent start/,
    );
    assert.equal(
      (await Deno.stat(`${configHome}/loopauth/tokens.json`)).mode! & 0o777,
      0o600,
      "the file it names holds the token",
    );
  }, { autoApprove: false, deviceInterval: 0.2 });
});
