/**
 * docs/dev_server.md's examples work as pasted: the Deno test (the library
 * twin), the Node test (`dev-server --json`) and the gh job script, each run
 * by its own runtime with `loopauth` on PATH.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { childEnv, MAIN, ROOT, runFlags, tempConfig } from "../helpers.ts";

const doc = await Deno.readTextFile(`${ROOT}/docs/dev_server.md`);

/** The first code block of `language` in the section under `heading`. */
function example(heading: string, language: string): string {
  const section = doc.slice(doc.indexOf(heading));
  const code = new RegExp("```" + language + "\\n([^]*?)```").exec(section)?.[1];
  assert.ok(code, `docs/dev_server.md has a ${language} example under ${heading}`);
  return code;
}

/** A `loopauth` command on PATH: this checkout's CLI with the documented flags. */
async function loopauthOnPath(configHome: string): Promise<string> {
  const bin = `${configHome}/bin`;
  await Deno.mkdir(bin, { mode: 0o700 });
  const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
  const command = [Deno.execPath(), "run", ...runFlags(`${configHome}/loopauth`), MAIN];
  await Deno.writeTextFile(
    `${bin}/loopauth`,
    `#!/bin/sh\nexec ${command.map(quote).join(" ")} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

async function run(
  program: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

Deno.test("docs/dev_server.md: the Deno example passes with the flags it gives", async () => {
  await using home = await tempConfig();
  const code = example("## Deno", "ts");
  const published = "https://raw.githubusercontent.com/loopauth/loopauth/v0.1.0/lib/testing.ts";
  assert.ok(code.includes(published));
  assert.match(code, /^\/\/ login_test\.ts: deno test --allow-net=127\.0\.0\.1 login_test\.ts$/m);
  // Only the import moves: this checkout's lib/testing.ts stands in for the release.
  const local = pathToFileURL(`${ROOT}/lib/testing.ts`).href;
  await Deno.writeTextFile(`${home.home}/login_test.ts`, code.replace(published, local), {
    mode: 0o600,
  });
  const out = await run(Deno.execPath(), [
    "test",
    "--no-config",
    "--allow-net=127.0.0.1",
    "login_test.ts",
  ], { cwd: home.home, env: childEnv(home.home) });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /device login, then GET \/user \.\.\. .*ok/);
});

Deno.test("docs/dev_server.md: the Node example passes under node --test", async () => {
  await using home = await tempConfig();
  const code = example("## Node", "js");
  await Deno.writeTextFile(`${home.home}/login.test.mjs`, code, { mode: 0o600 });
  const bin = await loopauthOnPath(home.home);
  const env = childEnv(home.home, { PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` });
  const out = await run("node", ["--test", "login.test.mjs"], { cwd: home.home, env });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /# pass 1/);
});

/** Why port 443 of 127.0.0.1 cannot be bound here, or `undefined` when it can. */
function cannotBind443(): string | undefined {
  try {
    Deno.listen({ hostname: "127.0.0.1", port: 443 }).close();
    return undefined;
  } catch (error) {
    return `127.0.0.1:443 cannot be bound here (${(error as Error).name})`;
  }
}
const skip = cannotBind443();
if (skip) console.error(`dev_server_docs_test: the gh example is skipped: ${skip}`);

Deno.test({
  name: "docs/dev_server.md: the gh job script logs gh in with its device flow",
  ignore: skip !== undefined,
  async fn() {
    await using home = await tempConfig();
    const script = example("## gh", "sh");
    await Deno.writeTextFile(`${home.home}/gh_login.sh`, script, { mode: 0o600 });
    const bin = await loopauthOnPath(home.home);
    await Deno.mkdir(`${home.home}/tmp`, { mode: 0o700 });
    const env = childEnv(home.home, {
      PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      TMPDIR: `${home.home}/tmp`, // mktemp -d goes there
    });
    const out = await run("bash", ["gh_login.sh"], { cwd: home.home, env });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stderr, /Logged in to 127\.0\.0\.1 as octocat/);
    assert.equal(out.stdout, "octocat\n");
    assert.deepEqual([...Deno.readDirSync(`${home.home}/tmp`)], [], "the script cleaned up");
  },
});
