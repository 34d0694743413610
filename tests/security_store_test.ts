/**
 * Attacks on what loopauth keeps on disk and on the issuer endpoints it
 * talks to, each through the real CLI: a symlinked lock, loose or foreign
 * config directories, an unwritable one found only after consent, kill -9
 * in the middle of a refresh, and issuer metadata that sends a token over
 * plain http beyond loopback.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../lib/errors.ts";
import { loginOnce, runCli, withProvider } from "./helpers.ts";

const FILE = ["--storage", "file"];

/** Runs a shell command (Deno.symlink needs unscoped permissions the tests do not have). */
async function sh(script: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-c", script, "sh", ...args] }).output();
  assert.ok(out.success, `${script}: ${new TextDecoder().decode(out.stderr)}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test({
  name: "attack: a symlinked lock file → refused, target not created",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      assert.equal((await loginOnce(provider, configHome, ...FILE)).code, 0);
      const host = ["--hostname", provider.origin];
      // A dangling link (followed, it would create its target: Deno does so under -A) and a
      // link to an existing file (followed, loopauth would open and lock someone else's file).
      const dangling = `${dir}/planted-by-attacker`;
      const victim = `${configHome}/victim`;
      await Deno.writeTextFile(victim, "not a lock\n");
      await Deno.chmod(victim, 0o644);
      for (const target of [dangling, victim]) {
        await sh('ln -sfn "$1" "$2"', target, `${dir}/lock`);
        const out = await runCli(["switch", ...host, "--user", "octocat"], { configHome });
        assert.equal(out.code, EXIT_CODES.storage, `→ ${target}: ${out.stderr}`);
        assert.equal(
          out.stderr,
          `Error: Refusing to use ${dir}/lock: it is a symbolic link, not the lock file loopauth creates (remove it)`,
        );
        assert.equal((await Deno.lstat(`${dir}/lock`)).isSymlink, true, "the link is left alone");
      }
      assert.equal(await exists(dangling), false, "the link's target was not created");
      assert.equal(await Deno.readTextFile(victim), "not a lock\n");
      assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
      // The account survived: once the link is gone, loopauth makes its own lock again.
      await Deno.remove(`${dir}/lock`);
      const out = await runCli(["switch", ...host, "--user", "octocat"], { configHome });
      assert.equal(out.code, 0, out.stderr);
      assert.equal((await Deno.lstat(`${dir}/lock`)).isFile, true);
    });
  },
});
