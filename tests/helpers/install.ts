/**
 * The README's install as a user runs it: its paste (taken from README.md,
 * the release URL replaced by a local one), a PATH of symbolic links to the
 * few programs a fresh machine has, and shells that start with nothing of
 * the test's environment.
 * @module
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "./env.ts";

/** The release URL the README's paste names (replaced by a test server's origin). */
export const RELEASE_URL = "https://raw.githubusercontent.com/loopauth/loopauth/v0.1.0";

/** The README's install block: the paste, the PATH line and what follows, split in lines. */
export interface ReadmeInstall {
  /** The installer's line with `origin` in place of {@linkcode RELEASE_URL}. */
  paste: string;
  /** The `export PATH=…` line the README (and the installer) name. */
  pathLine: string;
  /** The lines after the PATH line (`loopauth --version`). */
  rest: string[];
}

/**
 * The first `sh` block of the README's "## Install" section, with `origin`
 * for the release URL: it must be the installer's paste, the PATH line, then
 * the rest.
 *
 * @example
 * ```ts
 * const { paste } = await readmeInstall("http://127.0.0.1:8000");
 * ```
 */
export async function readmeInstall(origin: string): Promise<ReadmeInstall> {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const section = readme.slice(readme.indexOf("\n## Install\n"));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section);
  assert.ok(block, "README.md's Install section has an sh block");
  const [paste, pathLine, ...rest] = block[1].split("\n");
  assert.ok(paste.includes(RELEASE_URL), `the paste names ${RELEASE_URL}: ${paste}`);
  assert.match(pathLine, /^export PATH=/);
  return { paste: paste.replaceAll(RELEASE_URL, origin), pathLine, rest };
}

/**
 * A new directory of symbolic links to `programs` (found on the test's
 * PATH) and to `links` (name → target): the whole PATH of a shell that
 * must not see anything else (Node and npm, maybe no Deno).
 */
export async function toolsDir(
  programs: readonly string[],
  links: Record<string, string> = {},
): Promise<string> {
  const dir = await tempDir("bin");
  const script = [
    ...programs.map((name) => `ln -s "$(command -v ${name})" "$DIR/${name}"`),
    ...Object.entries(links).map(([name, target]) => `ln -s '${target}' "$DIR/${name}"`),
  ].join(" && ");
  // bash makes the links: Deno.symlink needs read and write access to everything.
  const out = await shell(script, { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DIR: dir });
  assert.equal(out.code, 0, out.stderr);
  return dir;
}

/** What a shell printed and its exit code. */
export interface ShellOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` in a fresh, non-login bash with exactly `env` (no profile,
 * no rc file, nothing of the test's environment).
 */
export async function shell(script: string, env: Record<string, string>): Promise<ShellOutput> {
  const { PATH: path = "", ...rest } = env;
  // Deno looks the program up on the child's PATH, and may run only the test's bash:
  // bash starts with the test's PATH and sets `env`'s before anything else.
  const quoted = `'${path.replaceAll("'", "'\\''")}'`;
  const out = await new Deno.Command("bash", {
    args: ["--noprofile", "--norc", "-c", `PATH=${quoted}; export PATH\n${script}`],
    env: { ...rest, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
    cwd: env.HOME ?? "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The programs a fresh Linux shell and the installer use (besides Node, npm and Deno). */
export const BASE_TOOLS: readonly string[] = [
  "bash",
  "sh",
  "env",
  "curl",
  "mkdir",
  "rm",
  "mv",
  "chmod",
  "cat",
  "id",
];
