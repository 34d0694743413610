/**
 * `deno task test`: runs `deno test` with the flags of
 * {@linkcode testTaskFlags} inside a private root of its own, then removes it.
 *
 * - The root is short (`/tmp/loopauth-t…`, mode 0700 whatever the umask):
 *   Unix socket paths stop at 103 bytes, so the agent's, tmux's and the test
 *   keyring's sockets cannot live under a checkout that sits in a long path
 *   or under a parent other users cannot enter. (Windows has no such limit
 *   and no `/tmp`: there it is `.test-tmp/` in the checkout.)
 * - The suite gets a scrubbed environment ({@linkcode TEST_ENV_VARS}): the
 *   developer's session bus (their keyring), agent, display, browser, proxy
 *   and tokens never reach a test or anything it starts. Deno's cache is
 *   named by `DENO_DIR`, so every Deno the tests start uses this one's.
 *
 * Arguments are passed to `deno test` (default `tests/`), e.g.
 * `deno task test tests/unit/pkce_test.ts` or `deno task test --filter agent`.
 * @module
 */
import { TEST_ENV_VARS, TEST_ROOT_VAR, TEST_TMP, testTaskFlags } from "./permissions.ts";

const windows = Deno.build.os === "windows";
if (windows) await Deno.mkdir(TEST_TMP, { recursive: true });
const root = await Deno.makeTempDir({ dir: windows ? TEST_TMP : "/tmp", prefix: "loopauth-t" });
let code = 1;
try {
  if (!windows) await Deno.chmod(root, 0o700); // makeTempDir's 0700, said whatever the umask

  const env: Record<string, string> = { [TEST_ROOT_VAR]: root, NO_COLOR: "1" };
  for (const name of TEST_ENV_VARS) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  env.DENO_DIR ??= await denoDir(env);
  const args = Deno.args.some((arg) => !arg.startsWith("-")) ? Deno.args : [...Deno.args, "tests/"];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...testTaskFlags(root, Deno.execPath()), ...args],
    env,
    clearEnv: true,
    stdin: "inherit",
  }).spawn();

  const signals: Deno.Signal[] = windows ? ["SIGINT"] : ["SIGINT", "SIGTERM", "SIGHUP"];
  const handlers = signals.map((signal) => {
    const forward = () => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    };
    Deno.addSignalListener(signal, forward);
    return () => Deno.removeSignalListener(signal, forward);
  });
  code = (await child.status).code;
  handlers.forEach((remove) => remove());
} finally {
  await Deno.remove(root, { recursive: true }).catch((error) =>
    console.error(`Could not remove the tests' root ${root}: ${error}`)
  );
}
Deno.exit(code);

/** Deno's cache directory as this Deno sees it (`deno info --json`), so children share it. */
async function denoDir(env: Record<string, string>): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
}
