/**
 * Every permission Deno denies the library ends as one `LoopauthError` with
 * code `permission` naming the exact flag (issue 28), never a raw NotCapable.
 */
import assert from "node:assert/strict";
import { childEnv, ROOT, runWithInput, tempConfig } from "../helpers.ts";

/** A program using the library: logs in (the test double plays the user), prints the outcome. */
const SCRIPT = `
import { login, LoopauthError } from "./lib/mod.ts";
const [origin, configDir, storage] = Deno.args;
try {
  await login({
    app: "ghstars", hostname: origin, clientId: "loopauth-dev", clientSecret: "loopauth-dev-secret",
    configDir: configDir || undefined, storage: storage || undefined, flow: "web", openBrowser: false, onAuthorizationUrl: () => {},
  });
  console.log("logged in");
} catch (error) {
  console.log(error instanceof LoopauthError ? error.code + ": " + error.message : "raw: " + error);
}
`;

async function run(flags: string[], args: string[], env: Record<string, string> = {}) {
  await using config = await tempConfig();
  const out = await runWithInput(
    Deno.execPath(),
    ["run", "--no-prompt", ...flags, "-", ...args],
    SCRIPT,
    { cwd: ROOT, env: childEnv(config.home, env) },
  );
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trim();
}

Deno.test("library permissions: each denial is a permission error naming the exact flag", async () => {
  await using config = await tempConfig();
  await Deno.mkdir(config.dir, { mode: 0o700 });
  const rw = [`--allow-read=${config.dir}`, `--allow-write=${config.dir}`];
  // The keyring is the default storage: secret-tool may not start.
  assert.equal(
    await run(["--allow-net=127.0.0.1", ...rw], ["http://127.0.0.1:9", config.dir]),
    'permission: Deno denied run access to "secret-tool": run with --allow-run=secret-tool',
  );
  // The callback server may not listen (nor the host be reached).
  assert.match(
    await run(rw, ["http://127.0.0.1:9", config.dir, "file"]),
    /^permission: Deno denied net access to "127\.0\.0\.1(:\d+)?": run with --allow-net=127\.0\.0\.1$/,
  );
  // No configDir: the app's own directory is looked up, from its variables.
  assert.equal(
    await run(["--allow-net=127.0.0.1"], ["http://127.0.0.1:9", ""]),
    'permission: Deno denied env access to "XDG_CONFIG_HOME": run with --allow-env=XDG_CONFIG_HOME',
  );
});
