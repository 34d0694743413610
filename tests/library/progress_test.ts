/**
 * The library's progress view is the CLI's (issue 28): with `progress` left
 * out, a login draws the CLI's status line, pinned to the bottom row of a
 * real terminal (tmux, 80×24) and one plain line where stderr is no
 * terminal; `progress: false` shows none; a function replaces it. And
 * `pasteBack: true` is the CLI's paste-back prompt, on a terminal only.
 */
import assert from "node:assert/strict";
import { actAsUser, type DevProvider } from "../../lib/testing.ts";
import { Cli, Tmux, withProvider } from "../helpers.ts";

const FIXTURE = new URL("../fixtures/progress_login.ts", import.meta.url).pathname;
const FLAGS = [
  "--no-prompt",
  "--allow-net=127.0.0.1",
  "--allow-env=PROGRESS_CLIENT_ID,PROGRESS_CLIENT_SECRET",
];

/** The fixture's variables: the provider's client (the secret never in an argument). */
function clientEnv(provider: DevProvider) {
  return { PROGRESS_CLIENT_ID: provider.clientId, PROGRESS_CLIENT_SECRET: provider.clientSecret };
}

/** The fixture app in a real 80×24 terminal, logging in to `provider` in `mode`. */
function startFixture(provider: DevProvider, configHome: string, mode: string): Promise<Tmux> {
  return Tmux.start([provider.origin, mode], {
    configHome,
    env: clientEnv(provider),
    flags: FLAGS,
    script: FIXTURE,
    columns: 80,
    rows: 24,
  });
}

/** The app's login with `mode`, without a terminal: its stderr once the test logged in. */
async function pipedLogin(mode: string) {
  return await withProvider(async (provider, configHome) => {
    const cli = new Cli([provider.origin, mode], {
      configHome,
      env: clientEnv(provider),
      command: [Deno.execPath(), "run", ...FLAGS, FIXTURE],
    });
    const url = await cli.authorizationUrl();
    assert.equal((await actAsUser(url)).status, 200);
    const out = await cli.output();
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "Logged in as octocat\n");
    return out.stderr.split("\n");
  });
}

const STATUS = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the browser… (\d+:\d\d) left \(Ctrl-C to cancel\)$/;

Deno.test("library progress: by default the CLI's status line, on the bottom row of a terminal, and gone after the login", async () => {
  await withProvider(async (provider, configHome) => {
    await using tmux = await startFixture(provider, configHome, "default");
    const [url] = await tmux.waitFor(/http:\/\/\S+\/login\/oauth\/authorize\?\S+/);
    // The status line runs: the bottom row (the pane's last), its clock moving.
    const rowsOf = (screen: string) => screen.trimEnd().split("\n");
    const first = await tmux.waitUntil((screen) => STATUS.test(rowsOf(screen).at(-1)!));
    const clock = STATUS.exec(rowsOf(first).at(-1)!)![1];
    await tmux.waitUntil(
      (screen) => {
        const status = STATUS.exec(rowsOf(screen).at(-1)!);
        return status !== null && status[1] !== clock;
      },
      15_000,
      "a status line with another clock",
    );
    assert.equal((await actAsUser(url)).status, 200);
    const done = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
    assert.match(done, /Logged in as octocat\n\[exit 0\]/);
    assert.doesNotMatch(done, /Waiting for|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, done);
    const [lower, height] =
      (await tmux.run("display", "-p", "#{scroll_region_lower} #{pane_height}"))
        .trim().split(" ").map(Number);
    assert.equal(lower, height - 1, "no scroll region is left behind");
  });
});

Deno.test("library progress: by default one plain line where stderr is no terminal", async () => {
  const lines = await pipedLogin("default");
  const waiting = lines.filter((line) => line.startsWith("Waiting for"));
  assert.equal(waiting.length, 1, lines.join("\n"));
  assert.match(
    waiting[0],
    /^Waiting for the browser \(times out in [45]:\d\d; Ctrl-C to cancel\)$/,
  );
  // After the URL it waits for.
  assert.ok(lines.indexOf(waiting[0]) > lines.findIndex((l) => l.includes("/login/oauth/")));
  assert.ok(!lines.some((line) => line.includes("\x1b")), "no escape sequence in a log");
});

Deno.test("library progress: false shows none; a function replaces it and is stopped once", async () => {
  const off = await pipedLogin("off");
  assert.ok(!off.some((line) => /Waiting for|own view/.test(line)), off.join("\n"));
  const own = await pipedLogin("own");
  assert.ok(!own.some((line) => line.startsWith("Waiting for")), own.join("\n"));
  assert.deepEqual(own.filter((line) => line.startsWith("own view")), [
    "own view: Waiting for the browser (web)",
    "own view: stopped",
  ]);
});

Deno.test("library pasteBack: true is the CLI's prompt on a terminal: the pasted address logs in", async () => {
  await withProvider(async (provider, configHome) => {
    await using tmux = await startFixture(provider, configHome, "paste");
    const [url] = await tmux.waitFor(/http:\/\/\S+\/login\/oauth\/authorize\?\S+/);
    // The CLI's words exactly (tests/system/tty_test.ts waits for the same).
    await tmux.waitFor(
      /If the browser cannot reach this machine, paste the address it ends up at \(http:\/\/127\.0\.0\.1:\d+\/callback\?…\) or the code here and press Enter/,
    );
    // The browser on another machine: the user copies the address it ended up at.
    const consent = await fetch(url, { redirect: "manual" });
    await consent.body?.cancel();
    await tmux.typeLine(consent.headers.get("location")!);
    const done = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
    assert.match(done, /Logged in as octocat\n\[exit 0\]/);
  });
});

Deno.test("library pasteBack: true asks nothing where stdin is no terminal", async () => {
  const lines = await pipedLogin("paste");
  assert.ok(!lines.some((line) => /paste the address/.test(line)), lines.join("\n"));
});
