/**
 * `deno task test`: runs `deno test` with the flags of
 * {@linkcode testTaskFlags} inside a private root of its own, then removes it.
 *
 * - The root is short (`/tmp/loopauth-t…`, mode 0700 whatever the umask):
 *   Unix socket paths stop at 103 bytes, so the agent's, tmux's and the test
 *   keyring's sockets cannot live under a checkout that sits in a long path
 *   or under a parent other users cannot enter.
 * - The suite gets a scrubbed environment ({@linkcode TEST_ENV_VARS}): the
 *   developer's session bus (their keyring), agent, display, browser and
 *   tokens never reach a test or anything it starts.
 *
 * Arguments are passed to `deno test` (default `tests/`), e.g.
 * `deno task test tests/unit/pkce_test.ts`.
 * @module
 */
import { TEST_ENV_VARS, TEST_ROOT_VAR, testTaskFlags } from "./permissions.ts";

/** The parent of the root: `/tmp` (short, on every POSIX system); the OS's on Windows. */
const parent = Deno.build.os === "windows" ? undefined : "/tmp";
const root = await Deno.makeTempDir({ dir: parent, prefix: "loopauth-t" });
await Deno.chmod(root, 0o700).catch(() => {}); // makeTempDir's 0700 is umask-proof; Windows has no modes

const env: Record<string, string> = { [TEST_ROOT_VAR]: root, NO_COLOR: "1" };
for (const name of TEST_ENV_VARS) {
  const value = Deno.env.get(name);
  if (value !== undefined) env[name] = value;
}
const args = Deno.args.length > 0 ? Deno.args : ["tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", ...testTaskFlags(root, Deno.execPath()), ...args],
  env,
  clearEnv: true,
  stdin: "inherit",
}).spawn();

const forward = (signal: Deno.Signal) => () => {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
};
const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
const handlers = signals.map((signal) => [signal, forward(signal)] as const);
for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
const status = await child.status;
for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
await Deno.remove(root, { recursive: true }).catch((error) =>
  console.error(`Could not remove the tests' root ${root}: ${error}`)
);
Deno.exit(status.code);
