/**
 * Faults of the environment: each ends in one clear line, in bounded time,
 * with a documented exit code. (A token endpoint's faults are attacks of the
 * suite: tests/security/server_test.ts.)
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { platformEnv, runCli, tempConfig } from "../helpers.ts";

Deno.test("environment faults: missing HOME, unusable config dir, missing permission", async () => {
  await using config = await tempConfig();
  // No HOME and no XDG_CONFIG_HOME: nowhere to keep tokens.
  const noHome = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-env", "main.ts", "token"],
    env: { ...platformEnv(), PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1" },
    clearEnv: true,
  }).output();
  assert.equal(noHome.code, EXIT_CODES.storage);
  assert.equal(
    new TextDecoder().decode(noHome.stderr),
    "Error: Cannot find a config directory: set HOME or XDG_CONFIG_HOME\n",
  );
  // The config directory is a file.
  await Deno.writeTextFile(`${config.home}/loopauth`, "not a directory", { mode: 0o600 });
  const blocked = await runCli(["token"], { configHome: config.home });
  assert.equal(blocked.code, EXIT_CODES.storage);
  assert.match(blocked.stderr, /^Error: Cannot read .*loopauth\/config\.json: Not a directory/);
  assert.equal(blocked.stderr.split("\n").length, 1);
  // A missing permission names the flag.
  await Deno.remove(`${config.home}/loopauth`);
  await Deno.mkdir(`${config.home}/loopauth`, { mode: 0o700 });
  const noNet = await runCli(["api", "/user", "--hostname", "ghe.example.com"], {
    configHome: config.home,
    flags: ["--no-prompt", "--allow-env", `--allow-read=${config.home}`],
    env: { LOOPAUTH_TOKEN: "gho_from_env" },
  });
  assert.equal(noNet.code, EXIT_CODES.permission, noNet.stderr);
  assert.equal(
    noNet.stderr,
    'Error: Deno denied net access to "ghe.example.com:443": run with --allow-net=ghe.example.com',
  );
});

Deno.test({
  name: "a closed stdout is an error, exit 14, not a silent success",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using config = await tempConfig();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-env",
        `--allow-read=${config.home}`,
        "main.ts",
        "token",
      ],
      env: {
        ...platformEnv(),
        PATH: Deno.env.get("PATH") ?? "",
        NO_COLOR: "1",
        XDG_CONFIG_HOME: config.home,
        LOOPAUTH_TOKEN: "gho_env",
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await child.stdout.cancel(); // the reader went away, like `| head -c0`
    const { code } = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(code, EXIT_CODES.output);
    assert.equal(stderr, "Error: Cannot write the result: stdout was closed\n");
  },
});
