/**
 * Ctrl-C while a keyring program hangs (a locked keyring waiting for its
 * password): loopauth ends at once with exit 130 and kills the program,
 * rather than leaving it to the keyring timeout (here ten minutes).
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { Cli } from "../helpers/cli.ts";
import { tempConfig, tempDir, waitUntil } from "../helpers/env.ts";

/** Whether process `pid` still runs (a zombie, killed but not reaped, counts as ended). */
async function running(pid: number): Promise<boolean> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      'set -- $(cat /proc/"$1"/stat 2>/dev/null); echo "${3:-gone}"',
      "bash",
      String(pid),
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const state = new TextDecoder().decode(out.stdout).trim();
  return state !== "gone" && state !== "Z" && state !== "X";
}

Deno.test({
  name: "Ctrl-C while secret-tool hangs: exit 130 at once, secret-tool killed",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using config = await tempConfig();
    const bin = await tempDir("b");
    const pidFile = `${bin}/pid`;
    // A secret-tool that never answers, as a locked keyring waiting for its password.
    await Deno.writeTextFile(
      `${bin}/secret-tool`,
      `#!/bin/sh\necho $$ > "${pidFile}.tmp" && mv "${pidFile}.tmp" "${pidFile}"\nexec sleep 600\n`,
      { mode: 0o700 },
    );
    await Deno.chmod(`${bin}/secret-tool`, 0o700);
    await Deno.mkdir(config.dir, { mode: 0o700 });
    await Deno.chmod(config.dir, 0o700);
    const account = {
      login: "octocat",
      clientId: "Iv1.abc",
      scopes: [],
      storage: "keyring",
      createdAt: new Date().toISOString(),
    };
    await Deno.writeTextFile(
      `${config.dir}/config.json`,
      JSON.stringify({
        version: 1,
        hosts: { "github.com": { active: "octocat", accounts: { octocat: account } } },
      }),
      { mode: 0o600 },
    );
    await Deno.chmod(`${config.dir}/config.json`, 0o600);
    const cli = new Cli(["token"], {
      configHome: config.home,
      env: { PATH: `${bin}:${Deno.env.get("PATH")}`, LOOPAUTH_KEYRING_TIMEOUT: "10m" },
    });
    let pid = 0;
    await waitUntil(async () => {
      pid = Number(await Deno.readTextFile(pidFile).catch(() => "0"));
      return pid > 0;
    }, { what: "loopauth token to start secret-tool" });
    assert.equal(await running(pid), true);
    cli.child.kill("SIGINT");
    const { code, stderr, stdout } = await cli.output();
    assert.equal(code, EXIT_CODES.cancelled, stderr);
    assert.equal(stderr, "Error: Cancelled");
    assert.equal(stdout, "");
    await waitUntil(async () => !await running(pid), { what: "secret-tool to be killed" });
  },
});
