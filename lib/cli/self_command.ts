/**
 * How to start loopauth again from a shell (for git's credential helper),
 * in a way that keeps working: the `loopauth` installed on `PATH`, else the
 * compiled binary itself, else `deno run` with the narrowest permissions the
 * helper needs and the entry's URL or path (never a copy in Deno's cache,
 * which Deno may clean out).
 * @module
 */
import { fileURLToPath } from "node:url";
import type { GitHubHost } from "../providers/github_host.ts";
import { agentDir, agentSocketPath, defaultAgentSocket } from "../store/agent_paths.ts";
import { ENV_VARS, readEnvVar } from "../core/env_vars.ts";
import { LoopauthError } from "../core/errors.ts";
import { within } from "../core/timers.ts";

/**
 * Quotes a word for a POSIX shell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellQuote } from "./self_command.ts";
 * assert.equal(shellQuote("it's"), "'it'\\''s'");
 * ```
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** What the helper command is made from (see {@linkcode helperCommand}). */
export interface HelperFacts {
  /** The config directory the helper may read and write. */
  configDir: string;
  /** A `loopauth` on `PATH` that answered `--version`. */
  installed?: string;
  /** Whether this process is a compiled binary (`Deno.build.standalone`). */
  standalone: boolean;
  /** This process's executable: the binary, or Deno. */
  execPath: string;
  /** The entry module (`Deno.mainModule`). */
  mainModule: string;
  /** Deno's cache directory, when known: an entry inside it does not last. */
  denoDir?: string;
  /** The platform (`Deno.build.os`): which keyring command the helper may run. */
  os: string;
}

/** The keyring command of each platform (see store/keyring.ts); none on Windows. */
function keyringProgram(os: string): string | undefined {
  return os === "darwin" ? "security" : os === "windows" ? undefined : "secret-tool";
}

/**
 * The shell command that runs `loopauth git-credential` for one host: the
 * installed `loopauth`, the compiled binary, or `deno run --quiet` (no
 * download or diagnostic lines on git's terminal) with network access to
 * that host only (for refreshes), the config directory, the agent's socket
 * (the one in use now and the one in the config directory), the documented
 * variables and this platform's keyring command. An entry inside Deno's
 * cache is a `usage` error: the helper would stop working when the cache
 * is cleaned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helperCommand } from "./self_command.ts";
 * import { resolveGitHubHost } from "../providers/github_host.ts";
 * const command = helperCommand(resolveGitHubHost("github.com"), {
 *   configDir: "/home/me/.config/loopauth",
 *   installed: "/home/me/.deno/bin/loopauth",
 *   standalone: false,
 *   execPath: "/usr/bin/deno",
 *   mainModule: "file:///home/me/loopauth/main.ts",
 *   os: "linux",
 * });
 * assert.equal(command, "/home/me/.deno/bin/loopauth git-credential");
 * ```
 */
export function helperCommand(host: GitHubHost, facts: HelperFacts): string {
  if (facts.installed) return `${shellQuote(facts.installed)} git-credential`;
  if (facts.standalone) return `${shellQuote(facts.execPath)} git-credential`;
  const remote = !facts.mainModule.startsWith("file:");
  const main = remote ? facts.mainModule : fileURLToPath(facts.mainModule);
  if (!remote && facts.denoDir && isInside(main, facts.denoDir)) {
    throw new LoopauthError(
      "usage",
      `Cannot set up a lasting git helper: loopauth runs from Deno's cache (${main}): install it with deno install -g, then run loopauth setup-git again`,
    );
  }
  const net = [new URL(host.origin).host, new URL(host.apiUrl).host];
  const keyring = keyringProgram(facts.os);
  const sockets = [
    ...new Set([
      agentSocketPath({ configDir: facts.configDir }),
      defaultAgentSocket({ configDir: facts.configDir, env: () => undefined }),
    ]),
  ];
  const outside = sockets.map(agentDir).filter((dir) => !dir.startsWith(`${facts.configDir}/`));
  const dirs = [...new Set([facts.configDir, ...outside])].join(",");
  // Modules load when used (see scripts/permissions.ts): a local main.ts's lib/ must be readable.
  const source = remote ? "" : `,${fileURLToPath(new URL("./lib", facts.mainModule))}`;
  return [
    facts.execPath,
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    "--unstable-lazy-dynamic-imports",
    ...(remote ? [`--allow-import=${new URL(main).host}`] : []),
    `--allow-net=${[...new Set(net), ...sockets.map((s) => `unix:${s}`)].join(",")}`,
    `--allow-env=${ENV_VARS.join(",")}`,
    `--allow-read=${dirs}${source}`,
    `--allow-write=${dirs}`,
    "--allow-sys=uid",
    ...(keyring ? [`--allow-run=${keyring}`] : []),
    main,
    "git-credential",
  ].map(shellQuote).join(" ");
}

function isInside(path: string, dir: string): boolean {
  const base = dir.replace(/[/\\]+$/, "");
  return path === base || path.startsWith(`${base}/`) || path.startsWith(`${base}\\`);
}

/** How long one `--version` check of a candidate may take. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * The first `loopauth` on `PATH` that runs: answers `--version` with
 * `loopauth VERSION` (so a stale or broken one is passed over, with
 * `onSkipped`). Spawning needs no read permission for `PATH`'s directories.
 *
 * @example
 * ```ts
 * import { findInstalled } from "./self_command.ts";
 * const path = await findInstalled({ onSkipped: (p, why) => console.error(p, why) });
 * ```
 */
export async function findInstalled(
  options: { path?: string; os?: string; onSkipped?: (path: string, why: string) => void } = {},
): Promise<string | undefined> {
  const os = options.os ?? Deno.build.os;
  const separator = os === "windows" ? ";" : ":";
  const names = os === "windows" ? ["loopauth.exe", "loopauth.cmd"] : ["loopauth"];
  const dirs = (options.path ?? readEnvVar("PATH") ?? "").split(separator)
    // Only absolute directories: a relative one depends on where git runs the helper.
    .filter((dir) => dir.startsWith("/") || /^[A-Za-z]:[\\/]/.test(dir));
  for (const dir of new Set(dirs)) {
    for (const name of names) {
      const path = `${dir.replace(/[/\\]+$/, "")}${os === "windows" ? "\\" : "/"}${name}`;
      const why = await versionProblem(path);
      if (why === undefined) return path;
      if (why !== "missing") options.onSkipped?.(path, why);
    }
  }
  return undefined;
}

/** Why `path --version` does not show a working loopauth: `missing`, a reason, or `undefined`. */
async function versionProblem(path: string): Promise<string | undefined> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return "it may not be run";
    }
    return "missing"; // a directory or something else that is not a program
  }
  const output = await within(child.output(), CHECK_TIMEOUT_MS);
  if (output === undefined) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status.catch(() => {});
    return "it did not answer --version in time";
  }
  const text = new TextDecoder().decode(output.stdout).trim();
  if (output.success && /^loopauth \d+\.\d+\.\d+\S*$/.test(text)) return undefined;
  return output.success ? "it is not loopauth" : `it exited with ${output.code}`;
}

/**
 * Deno's cache directory (`deno info --json`), or `undefined` when it
 * cannot be asked.
 */
async function denoCacheDir(execPath: string): Promise<string | undefined> {
  try {
    const child = new Deno.Command(execPath, {
      args: ["info", "--json"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const output = await within(child.output(), CHECK_TIMEOUT_MS);
    if (!output?.success) return undefined;
    const dir = JSON.parse(new TextDecoder().decode(output.stdout))?.denoDir;
    return typeof dir === "string" ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The facts of this machine for {@linkcode helperCommand}, gathered once
 * for every host: `onSkipped` hears of a `loopauth` on `PATH` that does
 * not run.
 *
 * @example
 * ```ts
 * import { helperCommand, helperFacts } from "./self_command.ts";
 * import { resolveGitHubHost } from "../providers/github_host.ts";
 * const facts = await helperFacts({ configDir: "/home/me/.config/loopauth" });
 * helperCommand(resolveGitHubHost("github.com"), facts);
 * ```
 */
export async function helperFacts(
  options: { configDir: string; onSkipped?: (path: string, why: string) => void },
): Promise<HelperFacts> {
  const installed = await findInstalled({ onSkipped: options.onSkipped });
  const standalone = Deno.build.standalone;
  const mainModule = Deno.mainModule;
  const denoDir = installed || standalone || !mainModule.startsWith("file:")
    ? undefined
    : await denoCacheDir(Deno.execPath());
  return {
    configDir: options.configDir,
    ...(installed ? { installed } : {}),
    standalone,
    execPath: Deno.execPath(),
    mainModule,
    ...(denoDir ? { denoDir } : {}),
    os: Deno.build.os,
  };
}
