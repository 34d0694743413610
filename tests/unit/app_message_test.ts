/**
 * An app's messages (issue 28): a hint naming a CLI flag is said in the
 * app's word for it, or left out with what follows it; the reason stays;
 * the loopauth CLI's messages are unchanged.
 */
import assert from "node:assert/strict";
import {
  appMessage,
  appSays,
  CLI_COMMANDS,
  inApp,
  LOOPAUTH_APP,
  resolveApp,
} from "../../lib/core/app.ts";
import { LoopauthError } from "../../lib/core/errors.ts";

const SECRET =
  "The browser flow on github.com needs the app's client secret: give it with LOOPAUTH_CLIENT_SECRET, --client-secret-file PATH or --client-secret -, or log in with --device, which needs none";

Deno.test("appMessage: the CLI's message is its own", () => {
  assert.equal(appMessage(LOOPAUTH_APP, SECRET), SECRET);
  assert.equal(appMessage(resolveApp("loopauth"), SECRET), SECRET);
});

Deno.test("appMessage: a hint with a flag the app has no word for goes, and every hint after it", () => {
  const bare = resolveApp("ghstars");
  assert.equal(
    appMessage(bare, SECRET),
    "The browser flow on github.com needs the app's client secret",
  );
  // A word for the last alternative only: the one before it still cannot be said.
  const device = resolveApp({ name: "ghstars", words: { "--device": "--code" } });
  assert.equal(
    appMessage(device, SECRET),
    "The browser flow on github.com needs the app's client secret",
  );
  // Every flag said: the whole hint, in the app's words.
  const all = resolveApp({
    name: "ghstars",
    words: {
      "--client-secret-file": "--secret-file",
      "--client-secret": "--secret",
      "--device": "--code",
    },
  });
  assert.equal(
    appMessage(all, SECRET),
    "The browser flow on github.com needs the app's client secret: give it with GHSTARS_CLIENT_SECRET, --secret-file PATH or --secret -, or log in with --code, which needs none",
  );
  // A hint without a flag stays; only the one after it goes.
  assert.equal(
    appMessage(
      bare,
      "Timed out after 5m waiting for the browser: run loopauth login again, or wait longer with --timeout",
    ),
    "Timed out after 5m waiting for the browser: run ghstars login again",
  );
  // A closing parenthetical is a hint too; the reason's own flags are the app's options.
  assert.equal(
    appMessage(bare, "the browser flow needs the app's client secret (--client-secret -)"),
    "the browser flow needs the app's client secret",
  );
  assert.equal(
    appMessage(bare, 'Invalid --redirect-uri "x": not a URL'),
    'Invalid --redirect-uri "x": not a URL',
  );
});

Deno.test("appSays: a word covers the whole flag it starts with; Deno's --allow-* need none", () => {
  const app = resolveApp({ name: "ghstars", words: { "--storage file": "--plain" } });
  assert.equal(appSays(app, "use --storage file"), true);
  assert.equal(appSays(app, "use another --storage"), false);
  assert.equal(appSays(app, "run with --allow-net=127.0.0.1"), true);
  assert.equal(
    appSays(resolveApp({ name: "ghstars", words: { "--web": "-w" } }), "use --webx"),
    false,
  );
});

Deno.test("inApp: an error is said once, however many entry points it passes, and keeps its reason", async () => {
  const app = resolveApp({ name: "ghstars", words: { "--web": "--web-only" } });
  const failing = () =>
    Promise.reject(
      new LoopauthError("oauth", "No device flow here: log in with --web", {
        reason: "device_unavailable",
      }),
    );
  const error = await inApp(app, () => inApp(app, failing)).catch((e) => e);
  assert.ok(error instanceof LoopauthError);
  assert.equal(error.message, "No device flow here: log in with --web-only");
  assert.equal(error.reason, "device_unavailable");
});

Deno.test("appMessage: a message said twice (a two-step login's waiter, then its resume) is said the same", () => {
  const app = resolveApp({
    name: "ghstars",
    words: { "--timeout": "--wait", "--web": "--web-only" },
  });
  const message =
    "Timed out after 5m waiting for the browser: run the command again, or wait longer with --timeout";
  const once = appMessage(app, message);
  assert.equal(once, `${message.slice(0, -"--timeout".length)}--wait`);
  assert.equal(appMessage(app, once), once);
  const web = appMessage(app, "No device flow here: log in with --web");
  assert.equal(web, "No device flow here: log in with --web-only");
  assert.equal(appMessage(app, web), web);
});

Deno.test("appMessage: a hint running a subcommand other than login needs the app's word for it", () => {
  const message =
    "No login 0123 is waiting: it ended or expired (see loopauth status), or another user started it";
  // The parenthetical goes, and what follows it.
  assert.equal(
    appMessage(resolveApp("ghstars"), message),
    "No login 0123 is waiting: it ended or expired",
  );
  const worded = resolveApp({ name: "ghstars", words: { "loopauth status": "ghstars accounts" } });
  assert.equal(
    appMessage(worded, message),
    "No login 0123 is waiting: it ended or expired (see ghstars accounts), or another user started it",
  );
  assert.equal(
    appMessage(resolveApp("ghstars"), "Not logged in to github.com: run loopauth login"),
    "Not logged in to github.com: run ghstars login",
  );
});

Deno.test("CLI_COMMANDS are main.ts's commands and help", async () => {
  const main = await Deno.readTextFile(new URL("../../main.ts", import.meta.url));
  const table = /const COMMANDS[^{]*\{\n([^]*?)\n\};/.exec(main)![1];
  const names = [...table.matchAll(/^ {2}"?([a-z-]+)"?: \{/gm)].map(([, name]) => name);
  assert.deepEqual([...CLI_COMMANDS].sort(), [...names, "help"].sort());
});
