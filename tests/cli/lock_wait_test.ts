/**
 * Ctrl-C while loopauth waits for another process's lock on the config
 * directory: it ends at once with exit 130, while the lock is still held
 * (counted: the run ended before the lock was ever free), and spends nothing.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { withLock } from "../../lib/store/lock.ts";
import { Cli, grantType, loginOnce, tokenRequests, withProvider } from "../helpers/cli.ts";
import { waitUntil } from "../helpers/env.ts";

/** Whether process `pid` has `path` open (Linux: its /proc/PID/fd links, read by bash). */
async function hasOpen(pid: number, path: string): Promise<boolean> {
  const out = await new Deno.Command("bash", {
    args: ["-c", 'for f in /proc/"$1"/fd/*; do readlink "$f"; done', "bash", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").includes(path);
}

Deno.test({
  name:
    "Ctrl-C while waiting for the config directory's lock: exit 130 at once, the refresh token unspent",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withProvider(async (provider, configHome, configDir) => {
      const logged = await loginOnce(provider, configHome, "--storage", "file");
      assert.equal(logged.code, 0, logged.stderr);
      const refreshes = () =>
        tokenRequests(provider).filter((r) => grantType(r) === "refresh_token");
      let exited = false;
      await withLock(configDir, async () => {
        // The access token expires within the refresh margin: `token` must refresh, under the lock.
        const cli = new Cli(["token", "--hostname", provider.origin], { configHome });
        await waitUntil(() => hasOpen(cli.child.pid, `${configDir}/lock`), {
          what: "loopauth token to wait for the lock",
        });
        cli.child.kill("SIGINT");
        const { code, stderr, stdout } = await cli.output();
        exited = true;
        assert.equal(code, EXIT_CODES.cancelled, stderr);
        assert.equal(stderr, "Error: Cancelled");
        assert.equal(stdout, "");
      });
      // It ended while this test still held the lock, and never spent the refresh token.
      assert.equal(exited, true);
      assert.equal(refreshes().length, 0);
    }, { expiringTokens: { accessTtl: 1, refreshTtl: 3600 } });
  },
});
