/**
 * scripts/compile.ts: the failure paths always run (offline); the real
 * binary is built and run only when DENORT_BIN names a denort, otherwise the
 * suite prints `skipped: no denort` and the test shows as ignored.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { VERSION } from "../../lib/core/version.ts";
import { binaryName, checkVersion, compileFailure, TARGETS } from "../../scripts/compile.ts";
import { compileFlags, GITHUB_HOSTS, TEST_BIN } from "../../scripts/permissions.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { actAsUser, startDevProvider } from "../../lib/testing.ts";
import {
  childEnv,
  Cli,
  loginWith,
  ROOT,
  runCli,
  secretEnv,
  startAgent,
  tempConfig,
  tempDir,
  TEST_TMP_DIR,
} from "../helpers.ts";

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

Deno.test("compile: the binary's flags reach any host, and never listen on or reach 0.0.0.0 or [::]", async () => {
  const flags = compileFlags();
  assert.ok(flags.includes("--allow-net"), "net is not pinned to a list of hosts");
  assert.ok(flags.includes("--deny-net=0.0.0.0,[::]"), flags.join(" "));
  // What Deno does with exactly these flags (the binary gets the same ones).
  const dir = await tempDir("flags");
  const probe = `${dir}/probe.ts`;
  await Deno.writeTextFile(
    probe,
    `const out: Record<string, string> = {};
for (const hostname of ["0.0.0.0", "::", "127.0.0.1"]) {
  try {
    Deno.listen({ hostname, port: 0 }).close();
    out["listen " + hostname] = "ok";
  } catch (error) {
    out["listen " + hostname] = error.name;
  }
}
try {
  const server = Deno.serve({ port: 0, onListen() {} }, () => new Response());
  await server.shutdown();
  out["serve without hostname"] = "ok";
} catch (error) {
  out["serve without hostname"] = error.name;
}
for (const host of ["ghe.example.com", "id.example.org:8443", "localhost:8443", "0.0.0.0:8080", "[::]:443"]) {
  out["connect " + host] = Deno.permissions.querySync({ name: "net", host }).state;
}
console.log(JSON.stringify(out));
`,
    { mode: 0o600 },
  );
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, probe],
    env: childEnv(dir),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
    "listen 0.0.0.0": "NotCapable",
    "listen ::": "NotCapable",
    "listen 127.0.0.1": "ok",
    "serve without hostname": "NotCapable",
    "connect ghe.example.com": "granted",
    "connect id.example.org:8443": "granted",
    "connect localhost:8443": "granted",
    "connect 0.0.0.0:8080": "denied",
    "connect [::]:443": "denied",
  });
});

Deno.test("compile: every server in lib/ names its address (none listens on Deno's default, 0.0.0.0)", async () => {
  const calls: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (const match of text.matchAll(/Deno\.(serve|listen|listenTls)\(/g)) {
          const line = text.slice(0, match.index).split("\n").length;
          const before = text.slice(text.lastIndexOf("\n", match.index) + 1, match.index);
          if (/^\s*\*/.test(before)) continue; // an @example in a doc comment
          // The call's options: up to the handler (or the end of the call).
          const options = text.slice(match.index, match.index + 600).split(/=>|\n\s*\}\);/)[0];
          calls.push(`${relative(ROOT, path)}:${line}`);
          assert.match(
            options,
            /hostname[:,]|transport: "unix"/,
            `${relative(ROOT, path)}:${line} listens without naming its address`,
          );
        }
      }
    }
  };
  await walk(join(ROOT, "lib"));
  assert.ok(calls.length >= 3, `found the servers: ${calls.join(", ")}`);
});

Deno.test("compile: the binary's flags log in to a GitHub Enterprise Server-like host that is not github.com", async () => {
  // The built-in provider over https, reached as localhost:PORT (its certificate names localhost).
  const provider = startDevProvider({ tls: true, autoApprove: true, dir: TEST_TMP_DIR });
  await using config = await tempConfig();
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(provider.caFile!)] });
  try {
    const host = `localhost:${new URL(provider.origin).port}`;
    const binary = {
      configHome: config.home,
      env: secretEnv(provider, { DENO_CERT: provider.caFile! }),
      flags: ["--no-prompt", ...compileFlags()],
    };
    const login = new Cli([
      "login",
      "--hostname",
      host,
      "--client-id",
      provider.clientId,
      "--no-browser",
      "--web",
      "--storage",
      "file",
    ], binary);
    const url = await login.authorizationUrl();
    assert.ok(url.startsWith(`https://${host}/login/oauth/authorize?`), url);
    // The user's browser, at the same server by its address (the test may reach 127.0.0.1 only).
    await actAsUser(url.replace(`https://${host}`, provider.origin), { client });
    const done = await login.output();
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, new RegExp(`^Logged in to ${host} as octocat$`, "m"));
    const user = await runCli(["api", "--hostname", host, "/user"], binary);
    assert.equal(user.code, 0, user.stderr);
    assert.equal(JSON.parse(user.stdout).login, "octocat");
    assert.ok(
      provider.requests.some((r) => r.path === "/api/v3/user"),
      "the API call reached the provider",
    );

    // The flags binaries had before (github.com and api.github.com only) could not.
    const before = provider.requests.length;
    const pinned = await runCli(["api", "--hostname", host, "/user"], {
      ...binary,
      flags: [
        "--no-prompt",
        ...compileFlags().map((flag) =>
          flag === "--allow-net" ? `--allow-net=127.0.0.1,${GITHUB_HOSTS.join(",")}` : flag
        ).filter((flag) => !flag.startsWith("--deny-net")),
      ],
    });
    assert.equal(pinned.code, EXIT_CODES.permission, pinned.stderr);
    assert.equal(provider.requests.length, before);
  } finally {
    client.close();
    await provider.close();
  }
});

Deno.test("compile: the binary's flags reach the agent's socket (it used to fall back as if none ran)", async () => {
  const provider = startDevProvider({ autoApprove: true });
  await using config = await tempConfig();
  try {
    // The agent as `deno run` starts it; the login and the token with the binary's flags.
    await using agent = await startAgent({ configHome: config.home });
    const binary = { configHome: config.home, flags: ["--no-prompt", ...compileFlags()] };
    const login = await loginWith(provider, binary, "--storage", "agent");
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, new RegExp(`^Token stored in the agent at ${agent.socket}$`, "m"));
    const token = await runCli(["token", "--hostname", provider.origin], binary);
    assert.equal(token.code, 0, token.stderr);
    assert.deepEqual(provider.activeTokens(), [token.stdout.trim()]);
  } finally {
    await provider.close();
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
