/**
 * The terminal view, driven in a real terminal (tmux): the device code, its
 * QR code and countdown; paste-back of the redirect URL.
 */
import assert from "node:assert/strict";
import {
  actAsUser,
  approveDeviceCode,
  type DevProvider,
  type DevProviderOptions,
} from "../../lib/dev/provider.ts";
import {
  isListening,
  loginArgs,
  providerLoginArgs,
  secretEnv,
  Tmux,
  withProvider,
} from "../helpers.ts";

/** A provider that approves only what the options say. */
function withTtyProvider(
  options: DevProviderOptions,
  fn: (provider: DevProvider, configHome: string) => Promise<void>,
) {
  return withProvider(fn, { autoApprove: false, ...options });
}

Deno.test("device flow on a terminal: code, QR code, a countdown that runs, then done", async () => {
  await withTtyProvider(
    { deviceInterval: 0.2, deviceExpiresIn: 90 },
    async (provider, configHome) => {
      await using tmux = await Tmux.start(providerLoginArgs(provider, "--device"), {
        configHome,
        env: secretEnv(provider),
      });
      const [, userCode] = await tmux.waitFor(/one-time code: ([A-Z]{4}-[A-Z]{4})/);
      // The QR code is drawn after the code line (its module loads lazily): wait for it.
      await tmux.waitFor(/scan this with your phone/);
      const countdown = /Waiting for the code to be entered… (\d+):(\d\d) left/;
      const [, m1, s1] = await tmux.waitFor(countdown);
      const screen = await tmux.screen();
      assert.match(screen, new RegExp(`enter it: ${provider.origin}/login/device`));
      // The QR code: rows of half and full blocks.
      const qrRows = screen.split("\n").filter((l) => /^[ ▀▄█]{20,}$/.test(l.trim() ? l : ""));
      assert.ok(qrRows.length >= 10, `QR code rows: ${qrRows.length}\n${screen}`);
      const secondsLeft = (m: string, s: string) => Number(m) * 60 + Number(s);
      // The countdown moves: wait (bounded) for a later figure.
      const [, m2, s2] = countdown.exec(
        await tmux.waitUntil(
          (now) => {
            const match = countdown.exec(now);
            return match !== null && secondsLeft(match[1], match[2]) < secondsLeft(m1, s1);
          },
          15_000,
          "a countdown below the first",
        ),
      )!;
      const left1 = secondsLeft(m1, s1);
      const left2 = secondsLeft(m2, s2);
      assert.ok(left1 <= 90 && left2 < left1, `countdown ${left1} then ${left2}`);
      await approveDeviceCode(provider.origin, userCode);
      await tmux.waitFor(/\[exit 0\]/);
      const done = await tmux.screen();
      assert.match(done, /Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat/);
      assert.doesNotMatch(done, /left\s*\n.*left/, "the countdown line is cleared, not repeated");
    },
  );
});

Deno.test("--no-qr: no QR code", async () => {
  await withTtyProvider({ deviceInterval: 0.2 }, async (provider, configHome) => {
    await using tmux = await Tmux.start(providerLoginArgs(provider, "--device", "--no-qr"), {
      configHome,
    });
    const [, userCode] = await tmux.waitFor(/one-time code: ([A-Z]{4}-[A-Z]{4})/);
    await tmux.waitFor(/left/);
    assert.doesNotMatch(await tmux.screen(), /scan this|[▀▄█]/);
    await approveDeviceCode(provider.origin, userCode);
    await tmux.waitFor(/\[exit 0\]/);
  });
});

Deno.test("paste-back: a tampered URL is refused, the real one logs in", async () => {
  await withTtyProvider({ autoApprove: true }, async (provider, configHome) => {
    await using tmux = await Tmux.start(loginArgs(provider), {
      configHome,
      env: secretEnv(provider),
    });
    const [url] = await tmux.waitFor(/http:\/\/\S+\/login\/oauth\/authorize\?\S+/);
    await tmux.waitFor(
      /paste the address it ends up at \(http:\/\/127\.0\.0\.1:\d+\/callback\?…\)/,
    );
    // The browser on another machine: it follows the consent redirect but cannot
    // reach the callback port, so the user copies the address from its bar.
    const consent = await fetch(url, { redirect: "manual" });
    await consent.body?.cancel();
    const callback = new URL(consent.headers.get("location")!);
    const port = Number(callback.port);
    const tampered = new URL(callback);
    tampered.searchParams.set("state", `${callback.searchParams.get("state")}x`);
    await tmux.typeLine(tampered.href);
    await tmux.waitFor(
      /Not accepted: Invalid request: The state of this callback does not match the login in progress/,
    );
    assert.equal(await isListening(port), true, "still waiting");
    await tmux.typeLine(callback.href);
    await tmux.waitFor(/\[exit 0\]/);
    assert.match(await tmux.screen(), /Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat/);
    assert.equal(await isListening(port), false);
    // The code came only through the paste: the callback server got no request,
    // and the exchange used the PKCE verifier.
    const exchange = provider.requests.find((r) => r.path === "/login/oauth/access_token")!;
    assert.equal(new URLSearchParams(exchange.body).get("code"), callback.searchParams.get("code"));
    assert.ok(provider.activeTokens().length === 1);
  });
});

const HINT =
  /If the browser cannot reach this machine, paste the address it ends up at \(http:\/\/127\.0\.0\.1:\d+\/callback\?…\) or the code here and press Enter/g;
const STATUS = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the browser or the code… (\d+:\d\d) left/;

/** Nothing of the status line is left on the screen, and the whole screen scrolls again. */
async function assertClean(tmux: Tmux, screen: string) {
  assert.doesNotMatch(screen, /Waiting for|left \(Ctrl-C|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, screen);
  const [lower, height] = (await tmux.run("display", "-p", "#{scroll_region_lower} #{pane_height}"))
    .trim().split(" ").map(Number);
  assert.equal(lower, height - 1, "no scroll region is left behind");
}

/** The CLI's process id: the child of the pane's shell. */
async function cliPid(tmux: Tmux): Promise<number> {
  const shell = (await tmux.run("display", "-p", "#{pane_pid}")).trim();
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "pid=", "--ppid", shell] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim().split(/\s+/)[0]);
}

for (const columns of [80, 120]) {
  Deno.test(`every route on a ${columns}-column terminal: the hint stays whole while the spinner runs; success and Ctrl-C leave a clean screen`, async () => {
    await withTtyProvider({ autoApprove: true }, async (provider, configHome) => {
      await using tmux = await Tmux.start(providerLoginArgs(provider), {
        configHome,
        columns,
        env: secretEnv(provider),
      });
      await tmux.waitFor(/one-time code: [A-Z]{4}-[A-Z]{4}/);
      const [url] = await tmux.waitFor(/http:\/\/\S+\/login\/oauth\/authorize\?\S+/);
      const [, first] = await tmux.waitFor(STATUS);
      // The spinner moves on; the (wrapped) hint stays whole and appears once.
      // (A screen caught between two tmux reads of one redraw may lack the status
      // line: only a screen that shows it, with another clock, counts.)
      const later = await tmux.waitUntil((screen) => {
        const status = STATUS.exec(screen);
        return status !== null && status[1] !== first;
      });
      assert.equal(later.match(HINT)?.length, 1, later);
      const rows = later.trimEnd().split("\n");
      assert.match(rows.at(-1)!, STATUS, `the status line is the bottom row:\n${later}`);
      // A refused paste, wrapped over several rows, leaves the hint alone too.
      await tmux.typeLine(`http://127.0.0.1:1/callback?code=x&state=${"y".repeat(2 * columns)}`);
      await tmux.waitFor(/Not accepted: /);
      assert.equal((await tmux.screen()).match(HINT)?.length, 1);
      await actAsUser(url);
      const done = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
      assert.match(done, /\[exit 0\]/);
      assert.match(done, /Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat/);
      assert.equal(done.match(HINT)?.length, 1);
      await assertClean(tmux, done);
    });
    await withTtyProvider({}, async (provider, configHome) => {
      await using tmux = await Tmux.start(providerLoginArgs(provider), {
        configHome,
        columns,
        env: secretEnv(provider),
      });
      await tmux.waitFor(STATUS);
      await tmux.run("send-keys", "C-c");
      const end = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
      assert.match(end, /\nError: Cancelled\n\[exit 130\]/);
      assert.equal(end.match(HINT)?.length, 1);
      await assertClean(tmux, end);
    });
    // SIGTERM (as from `timeout` or a closing IDE) skips the login's own clean-up.
    await withTtyProvider({}, async (provider, configHome) => {
      await using tmux = await Tmux.start(providerLoginArgs(provider), {
        configHome,
        columns,
        env: secretEnv(provider),
      });
      await tmux.waitFor(STATUS);
      // (Deno.kill would need --allow-run for every program: bash's kill needs only bash.)
      const kill = await new Deno.Command("bash", {
        args: ["-c", `kill -TERM ${await cliPid(tmux)}`],
      }).output();
      assert.ok(kill.success);
      const end = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
      assert.match(end, /\[exit 143\]/);
      await assertClean(tmux, end);
    });
  });
}

Deno.test("--client-secret - on a terminal: a hidden prompt (nothing typed is shown, Backspace deletes), then the login succeeds with what was typed", async () => {
  await withTtyProvider({}, async (provider, configHome) => {
    const args = ["login", "--hostname", provider.origin, "--client-id", provider.clientId];
    await using tmux = await Tmux.start([...args, "--client-secret", "-"], { configHome });
    await tmux.waitFor(/^Client secret of the app \(it is not shown\):\s*$/m);
    // The secret, then three wrong characters taken back with Backspace.
    await tmux.run("send-keys", "-l", "--", `${provider.clientSecret}XYZ`);
    for (let i = 0; i < 3; i++) await tmux.run("send-keys", "BSpace");
    const typed = await tmux.screen();
    assert.ok(!typed.includes(provider.clientSecret) && !typed.includes("XYZ"), typed);
    assert.equal(provider.requests.length, 0, "nothing is asked before the secret is read");
    await tmux.run("send-keys", "Enter");
    const [url] = await tmux.waitFor(/http:\/\/\S+\/login\/oauth\/authorize\?\S+/);
    assert.equal((await actAsUser(url)).status, 200);
    const done = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
    assert.match(done, /\[exit 0\]/, done);
    assert.ok(!done.includes(provider.clientSecret), done);
    assert.doesNotMatch(done, /Warning: --client-secret/, "the prompt is no argument: no warning");
    // What the code exchange sent: the secret without the erased characters.
    const exchange = provider.requests.filter((r) => r.path === "/login/oauth/access_token")
      .find((r) => new URLSearchParams(r.body).has("code"));
    assert.equal(new URLSearchParams(exchange!.body).get("client_secret"), provider.clientSecret);
    await assertClean(tmux, done);
  });
});

Deno.test("--client-secret - on a terminal: Ctrl-C at the prompt is exit 130 with one clean line, nothing asked of the host", async () => {
  await withTtyProvider({}, async (provider, configHome) => {
    const args = ["login", "--hostname", provider.origin, "--client-id", provider.clientId];
    await using tmux = await Tmux.start([...args, "--client-secret", "-"], { configHome });
    await tmux.waitFor(/^Client secret of the app \(it is not shown\):\s*$/m);
    await tmux.run("send-keys", "-l", "half-typed");
    await tmux.run("send-keys", "C-c");
    const end = await tmux.waitUntil((screen) => /\[exit \d+\]/.test(screen));
    assert.match(
      end,
      /^Client secret of the app \(it is not shown\): *\nError: Cancelled\n\[exit 130\]$/m,
      "the prompt, then one line",
    );
    assert.ok(!end.includes("half-typed"), end);
    assert.equal(provider.requests.length, 0, "the host heard nothing");
  });
});
