/**
 * scripts/compile.ts: the failure paths always run (offline); the real
 * binary is built and run only when DENORT_BIN names a denort, otherwise the
 * suite prints `skipped: no denort` and the test shows as ignored.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { VERSION } from "../../lib/core/version.ts";
import { binaryName, checkVersion, compileFailure, TARGETS } from "../../scripts/compile.ts";
import { TEST_BIN } from "../../scripts/permissions.ts";
import { childEnv, ROOT, runCli, tempConfig } from "../helpers.ts";

const DENORT_BIN = Deno.env.get("DENORT_BIN") || undefined;
const BIN_DIR = resolve(ROOT, TEST_BIN);
const BINARY = join(BIN_DIR, Deno.build.os === "windows" ? "loopauth.exe" : "loopauth");

/** Runs scripts/compile.ts for the host target into `output`, with its task's permissions. */
async function compileHost(denortBin: string | undefined, output: string) {
  const env = childEnv(ROOT);
  if (denortBin) env.DENORT_BIN = denortBin;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read=.",
      `--allow-write=${dirname(output)}`,
      "--allow-env=DENORT_BIN",
      `--allow-run=${Deno.execPath()}`,
      "scripts/compile.ts",
      "--target",
      "host",
      "--output",
      output,
    ],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

Deno.test("compile: the version of deno.json equals lib/core/version.ts, five targets named", async () => {
  assert.equal(await checkVersion(), VERSION);
  assert.equal(TARGETS.length, 5);
  assert.ok(TARGETS.includes(Deno.build.target), `the host ${Deno.build.target} is a target`);
  assert.equal(binaryName("x86_64-pc-windows-msvc"), "loopauth-x86_64-pc-windows-msvc.exe");
  assert.equal(binaryName("aarch64-apple-darwin"), "loopauth-aarch64-apple-darwin");
});

Deno.test("compile: an unreachable CDN is one clear line, never a fake binary", async () => {
  const cdn = `error: Writing deno compile executable to temporary file 'x.tmp'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect)`;
  assert.match(
    compileFailure("x86_64-unknown-linux-gnu", cdn),
    /^Cannot download denort for x86_64-unknown-linux-gnu from Deno's CDN \(dl\.deno\.land\): run where it is reachable, or set DENORT_BIN to a denort [\d.]+ binary \(host target only\)$/,
  );

  // A DENORT_BIN that is missing, or not a denort, fails the same way: exit 1, one line, no file.
  await using scratch = await tempConfig();
  const notDenort = join(scratch.home, "denort");
  await Deno.writeTextFile(notDenort, "not a binary\n", { mode: 0o600 });
  const output = join(scratch.home, "loopauth");
  for (const denort of [join(scratch.home, "missing"), notDenort]) {
    const { code, stderr } = await compileHost(denort, output);
    assert.equal(code, 1, stderr);
    const last = stderr.trimEnd().split("\n").at(-1)!;
    assert.match(
      last,
      /^Error: deno compile failed for [\w-]+ with DENORT_BIN=.+: .+: set it to a denort [\d.]+ binary for [\w-]+$/,
    );
    assert.doesNotMatch(stderr, /Wrote \d+ binaries/);
    assert.deepEqual(
      [...Deno.readDirSync(scratch.home)].map((e) => e.name).sort(),
      ["denort"],
      "no binary and no checksum file left behind",
    );
  }
});

if (!DENORT_BIN) console.log("skipped: no denort");

Deno.test({
  name: "compile: the host binary prints its version and runs the demo login",
  ignore: !DENORT_BIN,
  async fn() {
    const built = await compileHost(DENORT_BIN, BINARY);
    assert.equal(built.code, 0, built.stderr);
    const sums = await Deno.readTextFile(join(BIN_DIR, "SHA256SUMS"));
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(BINARY));
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(sums, `${hex}  ${BINARY.split(/[/\\]/).at(-1)}\n`);

    await using config = await tempConfig();
    const options = { configHome: config.home, command: [BINARY] as [string] };
    const version = await runCli(["--version"], options);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout, `loopauth ${VERSION}\n`);
    const demo = await runCli(["demo", "--no-browser"], options);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /^Logged in to http:\/\/127\.0\.0\.1:\d+ as octocat\n/);
    assert.match(demo.stdout, /"login": "octocat"/);
  },
});
