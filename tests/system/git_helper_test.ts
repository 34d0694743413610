/**
 * The helper `setup-git` writes keeps working: the installed loopauth on
 * PATH when one runs, else the exact `deno run` command of this run (never
 * a copy in Deno's cache); and git-credential says nothing on stderr, so
 * git's terminal stays clean (no Deno "Info Failed to resolve 'security'").
 */
import assert from "node:assert/strict";
import { ENV_VARS } from "../../lib/core/env_vars.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { helperCommand, type HelperFacts } from "../../lib/cli/self_command.ts";
import { resolveGitHubHost } from "../../lib/providers/github_host.ts";
import {
  childEnv,
  gitEnv,
  loginOnce,
  MAIN,
  runCli,
  runFlags,
  runWithInput,
  SOURCE_DIR,
  storedSecrets,
  withProvider,
} from "../helpers.ts";

/** A program run with `input` on stdin, its environment that of a CLI child plus `env`. */
async function run(
  program: string,
  args: string[],
  options: { configHome: string; env: Record<string, string>; input: string },
) {
  return await runWithInput(program, args, options.input, {
    env: { ...childEnv(options.configHome), ...options.env },
  });
}

/** A directory for PATH holding `loopauth`, a shell script with `body`. */
async function binWith(configHome: string, body: string): Promise<string> {
  const bin = `${configHome}/bin`;
  await Deno.mkdir(bin, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${bin}/loopauth`, `#!/bin/sh\n${body}\n`, { mode: 0o700 });
  await Deno.chmod(`${bin}/loopauth`, 0o700);
  return bin;
}

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

Deno.test("setup-git writes the installed loopauth on PATH; git gets the token and a clean stderr", async () => {
  if (Deno.build.os === "windows") return; // the stand-in install is a POSIX shell script
  await withProvider(async (provider, configHome, configDir) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    // What deno install -g writes: a script that runs deno with the install's flags.
    const bin = await binWith(
      configHome,
      `exec ${[Deno.execPath(), "run", ...runFlags(configDir), MAIN].map(quote).join(" ")} "$@"`,
    );
    const env = { PATH: `${bin}:${Deno.env.get("PATH")}`, ...gitEnv(configHome) };
    const setup = await runCli(["setup-git", "--hostname", provider.origin, "--json"], {
      configHome,
      env,
    });
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(setup.stderr, "");
    assert.deepEqual(JSON.parse(setup.stdout), [{
      host: provider.origin,
      origin: provider.origin,
      helper: `${bin}/loopauth git-credential`,
    }]);
    const gitconfig = await Deno.readTextFile(`${configHome}/gitconfig`);
    assert.ok(gitconfig.includes(`helper = !${bin}/loopauth git-credential`), gitconfig);

    const port = new URL(provider.origin).port;
    const fill = await run("git", ["credential", "fill"], {
      configHome,
      env,
      input: `protocol=http\nhost=127.0.0.1:${port}\n\n`,
    });
    assert.equal(fill.code, 0, fill.stderr);
    const token = (await storedSecrets(configHome, provider.origin)).accessToken;
    assert.match(fill.stdout, new RegExp(`^password=${token}$`, "m"));
    assert.equal(fill.stderr, "", "nothing on git's terminal");
  });
});

Deno.test("a loopauth on PATH that does not run is passed over: the helper is the exact deno run command, its stderr empty", async () => {
  if (Deno.build.os === "windows") return;
  await withProvider(async (provider, configHome, configDir) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const bin = await binWith(configHome, "exit 3");
    const env = { PATH: `${bin}:${Deno.env.get("PATH")}`, ...gitEnv(configHome) };
    const setup = await runCli(["setup-git", "--hostname", provider.origin, "--json"], {
      configHome,
      env,
    });
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(setup.stderr, `Skipped ${bin}/loopauth on PATH: it exited with 3`);
    const [{ helper }] = JSON.parse(setup.stdout);
    const host = new URL(provider.origin).host;
    assert.equal(
      helper,
      [
        Deno.execPath(),
        "run",
        "--quiet",
        "--no-prompt",
        "--no-config",
        "--unstable-lazy-dynamic-imports",
        // The host, and the agent's socket in the config directory.
        `--allow-net=${host},unix:${configDir}/agent/agent.sock`,
        `--allow-env=${ENV_VARS.join(",")}`,
        // The config directory, and the checkout's lib/ (modules load when used).
        `--allow-read=${configDir},${SOURCE_DIR}`,
        `--allow-write=${configDir}`,
        "--allow-sys=uid",
        // Only this platform's keyring command: naming a missing one makes Deno print an Info line.
        Deno.build.os === "darwin" ? "--allow-run=security" : "--allow-run=secret-tool",
        MAIN,
        "git-credential",
      ].join(" "),
    );

    // git-credential get as git runs it (through a shell): the credential, and nothing on stderr.
    const port = new URL(provider.origin).port;
    const get = await run("bash", ["-c", `${helper} get`], {
      configHome,
      env: {},
      input: `protocol=http\nhost=127.0.0.1:${port}\n\n`,
    });
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^username=octocat\npassword=\S+\n$/);
    assert.equal(get.stderr, "");
    const fill = await run("git", ["credential", "fill"], {
      configHome,
      env,
      input: `protocol=http\nhost=127.0.0.1:${port}\n\n`,
    });
    assert.equal(fill.code, 0, fill.stderr);
    assert.equal(fill.stderr, "");
  });
});

Deno.test("helperCommand: a binary as it is; deno run with the module's URL; never a copy in Deno's cache", () => {
  const host = resolveGitHubHost("ghe.example.com");
  const facts: HelperFacts = {
    configDir: "/home/me/.config/loopauth",
    standalone: false,
    execPath: "/usr/bin/deno",
    mainModule: "file:///home/me/src/loopauth/main.ts",
    denoDir: "/home/me/.cache/deno",
    os: "linux",
  };
  assert.equal(
    helperCommand(host, { ...facts, standalone: true, execPath: "/opt/my tools/loopauth" }),
    "'/opt/my tools/loopauth' git-credential",
  );
  assert.equal(
    helperCommand(host, { ...facts, installed: "/home/me/.deno/bin/loopauth" }),
    "/home/me/.deno/bin/loopauth git-credential",
    "the installed loopauth wins",
  );
  const remote = helperCommand(host, {
    ...facts,
    mainModule: "https://jsr.io/@loopauth/loopauth/0.1.0/main.ts",
    os: "darwin",
  });
  assert.match(
    remote,
    /^\/usr\/bin\/deno run --quiet --no-prompt --no-config --unstable-lazy-dynamic-imports --allow-import=jsr\.io --allow-net=ghe\.example\.com,unix:\/home\/me\/\.config\/loopauth\/agent\/agent\.sock --allow-env=\S+ --allow-read=\/home\/me\/\.config\/loopauth --allow-write=\/home\/me\/\.config\/loopauth --allow-sys=uid --allow-run=security https:\/\/jsr\.io\/@loopauth\/loopauth\/0\.1\.0\/main\.ts git-credential$/,
  );
  assert.doesNotMatch(
    helperCommand(host, { ...facts, os: "windows" }),
    /--allow-run/,
    "no keyring command on Windows",
  );
  assert.throws(
    () =>
      helperCommand(host, {
        ...facts,
        mainModule: "file:///home/me/.cache/deno/remote/https/example.com/abc123",
      }),
    (error: Error & { code?: string }) =>
      error.code === "usage" && EXIT_CODES.usage === 2 &&
      error.message ===
        "Cannot set up a lasting git helper: loopauth runs from Deno's cache (/home/me/.cache/deno/remote/https/example.com/abc123): install it with deno install -g, then run loopauth setup-git again",
  );
});
