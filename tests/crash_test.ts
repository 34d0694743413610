/**
 * Crash safety: `kill -9` at random points of a login and of a logout
 * leaves the previous state or the new one: both files parse, and every
 * account the config names has its token (never a partial file, never an
 * account without a secret).
 */
import assert from "node:assert/strict";
import { actAsUser, startDevProvider } from "../lib/dev/provider.ts";
import { Cli, loginArgs, runCli, tempConfig } from "./helpers.ts";

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`${path} is not whole JSON after a kill: ${error}`);
  }
}

/** The invariant; returns the logins the config names for the host. */
async function assertConsistent(dir: string, host: string): Promise<string[]> {
  const config = await readJson(`${dir}/config.json`) as
    | { hosts: Record<string, { accounts: Record<string, unknown> }> }
    | undefined;
  const tokens = await readJson(`${dir}/tokens.json`) as
    | { hosts: Record<string, Record<string, { accessToken?: string }>> }
    | undefined;
  const logins = Object.keys(config?.hosts?.[host]?.accounts ?? {});
  for (const login of logins) {
    const secret = tokens?.hosts?.[host]?.[login];
    assert.ok(secret?.accessToken, `config names ${login} but its token is missing`);
  }
  return logins;
}

const env = { LOOPAUTH_STORAGE: "file" };

Deno.test({
  name: "kill -9 at random points of login and logout leaves old or new state",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const provider = startDevProvider({ autoApprove: true });
    await using config = await tempConfig();
    const seen = new Set<string>();
    try {
      for (let i = 0; i < 12; i++) {
        // Login, killed somewhere between the user's approval and the exit.
        const cli = new Cli(loginArgs(provider), { configHome: config.home, env });
        const url = await cli.authorizationUrl();
        const approving = actAsUser(url).catch(() => undefined);
        await new Promise((r) => setTimeout(r, Math.random() * 25));
        try {
          cli.child.kill("SIGKILL");
        } catch { /* already exited */ }
        await approving;
        await cli.output();
        const after = await assertConsistent(config.dir, provider.origin);
        seen.add(after.length ? "logged in" : "not logged in");
        // Logout, killed at a random point.
        if (after.length) {
          const out = new Cli(["logout", "--hostname", provider.origin], {
            configHome: config.home,
            env,
          });
          await new Promise((r) => setTimeout(r, Math.random() * 40));
          try {
            out.child.kill("SIGKILL");
          } catch { /* already exited */ }
          await out.output();
          await assertConsistent(config.dir, provider.origin);
        }
        // Whatever state is left, the CLI reads it cleanly.
        const token = await runCli(["token", "--hostname", provider.origin], {
          configHome: config.home,
          env,
        });
        assert.ok(
          token.code === 0 || token.code === 3,
          `token exit ${token.code}: ${token.stderr}`,
        );
      }
    } finally {
      await provider.close();
    }
    console.log(`states seen after kills: ${[...seen].join(", ")}`);
  },
});
