/**
 * The interactive login in a real terminal: tmux runs a shell, the test
 * types the command, reads the screen, and presses Ctrl-C. Also the bash
 * completion script, run by bash itself.
 */
import assert from "node:assert/strict";
import { startDevProvider } from "../../lib/dev/provider.ts";
import {
  childEnv,
  loginArgs,
  loginWith,
  MAIN,
  runCli,
  runFlags,
  secretEnv,
  tempConfig,
  tempDir,
  withProvider,
} from "../helpers.ts";

async function tmux(socket: string, ...args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("tmux", {
      args: ["-f", "/dev/null", "-S", socket, ...args],
      stdin: "null",
    }).output();
  } catch (error) {
    throw new Error(`Cannot run tmux (${error}): install it (deno task setup)`);
  }
  if (!output.success) {
    throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return new TextDecoder().decode(output.stdout);
}

async function screenUntil(
  socket: string,
  pattern: RegExp | ((screen: string) => boolean),
  ms = 15_000,
): Promise<string> {
  const deadline = Date.now() + ms;
  const holds = typeof pattern === "function" ? pattern : (screen: string) => pattern.test(screen);
  while (true) {
    const screen = await tmux(socket, "capture-pane", "-p", "-t", "main");
    if (holds(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`Screen never matched ${pattern}:\n${screen}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

Deno.test("tmux: spinner and countdown while waiting; Ctrl-C leaves a clean prompt and exit 130", async () => {
  const provider = startDevProvider();
  await using config = await tempConfig();
  const socket = `${await tempDir("tmux")}/socket`; // not the user's tmux, nor /tmp/tmux-UID
  const env = {
    ...childEnv(config.home, secretEnv(provider)),
    TERM: "xterm-256color",
    SHELL: "/bin/bash",
  };
  const started = await new Deno.Command("tmux", {
    args: [
      "-f",
      "/dev/null",
      "-S",
      socket,
      "new-session",
      "-d",
      "-s",
      "main",
      "-x",
      "200",
      "-y",
      "30",
      "bash --norc --noprofile",
    ],
    env,
    clearEnv: true,
  }).output().catch((error) => {
    throw new Error(`Cannot start tmux (${error}): install it (deno task setup)`);
  });
  assert.ok(started.success, new TextDecoder().decode(started.stderr));
  try {
    const command = [Deno.execPath(), "run", ...runFlags(config.dir), MAIN, ...loginArgs(provider)]
      .map(quote).join(" ");
    await tmux(socket, "send-keys", "-t", "main", `${command}; echo "EXIT=$?"`, "Enter");
    const first = await screenUntil(socket, /Waiting for the browser… \d+:\d\d left/);
    assert.match(
      first,
      /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the browser… (5:00|4:5\d) left \(Ctrl-C to cancel\)/,
    );
    assert.match(first, /^http:\/\/127\.0\.0\.1:\d+\/login\/oauth\/authorize\?/m);
    const clock = (screen: string) => /(\d+:\d\d) left/.exec(screen)?.[1];
    // The countdown moves: wait (bounded) for another figure.
    const later = await screenUntil(socket, (now) => (clock(now) ?? clock(first)) !== clock(first));
    assert.notEqual(clock(later), clock(first), "the countdown moves");

    await tmux(socket, "send-keys", "-t", "main", "C-c");
    // Until bash has drawn its prompt after the exit line (it may come a moment after).
    const prompt = /^(bash-[\d.]+)?[#$]$/;
    const end = await screenUntil(
      socket,
      (screen) => /EXIT=\d+/.test(screen) && prompt.test(screen.trimEnd().split("\n").at(-1)!),
    );
    assert.match(end, /EXIT=130/);
    const lines = end.trimEnd().split("\n");
    assert.match(lines.at(-1)!, prompt, "a clean prompt after Ctrl-C");
    assert.equal(lines.at(-2), "EXIT=130");
    assert.equal(lines.at(-3), "Error: Cancelled", "the spinner line was cleared");
    assert.doesNotMatch(end, /Waiting for the browser…/);
  } finally {
    await tmux(socket, "kill-server").catch(() => {});
    await provider.close();
  }
});

Deno.test("bash completion completes subcommands and flags", async () => {
  await using config = await tempConfig();
  const { code, stdout } = await runCli(["completion", "bash"], { configHome: config.home });
  assert.equal(code, 0);
  const complete = async (words: string[]) => {
    const script = `${stdout}\nCOMP_WORDS=(${words.map(quote).join(" ")}); COMP_CWORD=${
      words.length - 1
    }; _loopauth; echo "\${COMPREPLY[*]}"`;
    const out = await new Deno.Command("bash", { args: ["--norc", "-c", script] }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(await complete(["loopauth", "lo"]), "login logout");
  assert.equal(await complete(["loopauth", "login", "--host"]), "--hostname");
  assert.equal(await complete(["loopauth", "api", "--m"]), "--method");
  // A flag's values after it, not flags; a subcommand's words as its first argument.
  assert.equal(
    await complete(["loopauth", "login", "--storage", ""]),
    "keyring file agent encrypted",
  );
  assert.equal(await complete(["loopauth", "login", "--storage", "e"]), "encrypted");
  assert.equal(await complete(["loopauth", "agent", ""]), "start stop status forward");
  assert.equal(await complete(["loopauth", "agent", "st"]), "start stop status");
  assert.match(await complete(["loopauth", "agent", "start", "--"]), /^--ttl .*--socket/);
  assert.equal(await complete(["loopauth", "completion", "z"]), "zsh");
  for (const shell of ["zsh", "fish"]) {
    const script = await runCli(["completion", shell], { configHome: config.home });
    assert.equal(script.code, 0);
    assert.match(script.stdout, /loopauth/);
  }
  const bad = await runCli(["completion", "tcsh"], { configHome: config.home });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Error: Unknown shell "tcsh": use bash, zsh, fish or powershell$/);
});

Deno.test("login --json prints the result without the token; --quiet prints only the URL", async () => {
  await withProvider(async (provider, configHome) => {
    const { url, code, stdout, stderr } = await loginWith(
      provider,
      { configHome },
      "--json",
      "--quiet",
    );
    assert.equal(code, 0);
    const result = JSON.parse(stdout);
    assert.equal(result.host, provider.origin);
    assert.equal(result.login, "octocat");
    assert.equal(result.tokenType, "bearer");
    assert.equal(stdout.includes("gho_"), false, "no token in --json output");
    // The plain-text warning stays, even with --json --quiet (no keyring here).
    const lines = stderr.split("\n");
    assert.deepEqual(lines.slice(0, 2), [
      `Open this URL in your browser to log in to ${provider.origin}:`,
      url,
    ]);
    assert.equal(lines.length, 3);
    assert.ok(
      lines[2].startsWith(
        `Warning: token in plain text (mode 0600) at ${configHome}/loopauth/tokens.json`,
      ),
      lines[2],
    );
    assert.equal(result.expiresAt, null, "expiresAt is null, not left out");
  });
});
