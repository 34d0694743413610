/**
 * Where tests run and what their child processes see: the checkout's paths,
 * temporary config directories, the documented run flags and a clean
 * environment; bounded waits; file checks.
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  CHECKOUT_LIB,
  runFlags as documentedRunFlags,
  TEST_ROOT_VAR,
} from "../../scripts/permissions.ts";

/** main.ts of this checkout. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** The checkout's root directory. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Where tests keep every temporary file, directory and socket: the short
 * private root `deno task test` makes (scripts/test.ts) and names in
 * `LOOPAUTH_TEST_ROOT` (the benchmarks name `.test-tmp`, resolved in the
 * checkout). Without it the tests refuse to start: under plain `deno test`
 * they would write into the checkout and see the developer's environment.
 */
export const TEST_TMP_DIR: string = testRoot();

function testRoot(): string {
  let root: string | undefined;
  try {
    root = Deno.env.get(TEST_ROOT_VAR);
  } catch { /* not permitted: not run by deno task test */ }
  if (!root) {
    throw new Error(
      `Run the tests with deno task test (it gives them a private root in ${TEST_ROOT_VAR} and a clean environment), e.g. deno task test tests/unit/pkce_test.ts`,
    );
  }
  return /^([a-zA-Z]:)?[\\/]/.test(root)
    ? root
    : fileURLToPath(new URL(`../../${root}/`, import.meta.url));
}

/** The checkout's `lib/`, which its `deno run` flags let Deno read (modules load when used). */
export const SOURCE_DIR = fileURLToPath(new URL(`../../${CHECKOUT_LIB}`, import.meta.url));

/**
 * The documented `deno run` flags of a checkout for a config directory
 * (every subcommand, demo included), with the loopback-only network of the
 * tests; with the session bus of `env` (a test keyring's), as the
 * documented flags name the user's.
 */
export function runFlags(configDir: string, env: Record<string, string> = {}): string[] {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  const bus = address === undefined ? undefined : /^unix:path=([^,;]+)/.exec(address)?.[1];
  return ["--no-prompt", ...documentedRunFlags(configDir, [], { bus, source: SOURCE_DIR })];
}

/**
 * A new private directory (mode 0700 whatever the umask) under
 * {@linkcode TEST_TMP_DIR}, with a short name: sockets go inside.
 */
export async function tempDir(prefix = "t"): Promise<string> {
  await Deno.mkdir(TEST_TMP_DIR, { recursive: true, mode: 0o700 });
  const dir = await Deno.makeTempDir({ dir: TEST_TMP_DIR, prefix });
  await Deno.chmod(dir, 0o700);
  return dir;
}

/** A temporary XDG_CONFIG_HOME, removed with `using`. */
export async function tempConfig(): Promise<{ home: string; dir: string } & AsyncDisposable> {
  const home = await tempDir("c");
  return {
    home,
    dir: `${home}/loopauth`,
    [Symbol.asyncDispose]: cleanup(
      `the config home ${home}`,
      () => Deno.remove(home, { recursive: true }),
    ),
  };
}

/**
 * A disposer that never throws: a failed clean-up is printed, so that with
 * `await using` it cannot hide the test's own failure behind a
 * SuppressedError ("An error was suppressed during disposal").
 */
export function cleanup(what: string, dispose: () => unknown): () => Promise<void> {
  return async () => {
    try {
      await dispose();
    } catch (error) {
      console.error(
        `Clean-up of ${what} failed: ${error instanceof Error ? error.message : error}`,
      );
    }
  };
}

/**
 * What a child process needs from the OS whatever it runs: on Windows,
 * `SystemRoot` (without it a child cannot open a socket).
 */
export function platformEnv(): Record<string, string> {
  if (Deno.build.os !== "windows") return {};
  const systemRoot = Deno.env.get("SystemRoot");
  return systemRoot ? { SystemRoot: systemRoot } : {};
}

/** Environment for a CLI child: nothing from the developer's session leaks in. */
export function childEnv(
  xdgConfigHome: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    ...platformEnv(),
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? xdgConfigHome,
    XDG_CONFIG_HOME: xdgConfigHome,
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return { ...env, ...extra };
}

/** git's environment in a test: the config file under `configHome`, no system config, no prompts. */
export function gitEnv(configHome: string): Record<string, string> {
  return {
    GIT_CONFIG_GLOBAL: `${configHome}/gitconfig`,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
  };
}

/** The secrets a login stored in the file store (`tokens.json`) under `configHome`. */
export async function storedSecrets(configHome: string, host: string, login = "octocat") {
  const data = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/tokens.json`));
  return data.hosts[host][login] as {
    accessToken: string;
    refreshToken?: string;
    expiresAt?: string;
    refreshTokenExpiresAt?: string;
  };
}

/** Every file under `dir` whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const bytes = new TextEncoder().encode(needle);
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(child);
      else if (entry.isFile) {
        const data = await Deno.readFile(child);
        if (indexOf(data, bytes) >= 0) found.push(child);
      }
    }
  };
  await walk(dir);
  return found;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Waits (bounded) until `check` holds; checks every 20 ms. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  { ms = 15_000, what = "the condition" }: { ms?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

/**
 * A new empty directory outside the checkout (no deno.json above it): one
 * in the tests' root, removed with `using`.
 */
export async function emptyDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await tempDir("empty");
  return {
    path,
    [Symbol.asyncDispose]: cleanup(path, () => Deno.remove(path, { recursive: true })),
  };
}

/** Options of {@linkcode runWithInput}. */
export interface RunWithInputOptions {
  /** The whole environment (nothing else is passed on); without it the child inherits the test's. */
  env?: Record<string, string>;
  /** The working directory. */
  cwd?: string;
  /** The child may stop reading before all of `input` is written (a closed pipe is not a failure). */
  mayStopReading?: boolean;
}

/** Runs `program` with `input` on stdin (a pipe) and returns its exit code and decoded output. */
export async function runWithInput(
  program: string,
  args: string[],
  input: string | Uint8Array,
  options: RunWithInputOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    ...(options.env ? { env: options.env, clearEnv: true } : {}),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(typeof input === "string" ? new TextEncoder().encode(input) : input)
    .then(() => writer.close())
    .catch((error) => {
      if (!(options.mayStopReading && error instanceof Deno.errors.BrokenPipe)) throw error;
    });
  const output = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/**
 * Kills `child` with SIGKILL at a random moment within `ms` after its first
 * output on stdout (a writer that reports each write), and waits for it to end.
 */
export async function killWhileWriting(child: Deno.ChildProcess, ms: number): Promise<void> {
  const reader = child.stdout.getReader();
  await reader.read();
  await new Promise((wake) => setTimeout(wake, Math.random() * ms));
  child.kill("SIGKILL");
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.status;
}
