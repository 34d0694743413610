/**
 * `loopauth doctor` through the real CLI: against the built-in provider and
 * the real OpenID Provider of tests/oidc_test.ts, with a real keyring, and
 * each ✗ that blocks a login (an unsafe config directory, a forced keyring
 * that does not answer, a missing permission, a host that does not answer,
 * an issuer without metadata) with its exit code; a skewed clock is a !.
 */
import assert from "node:assert/strict";
import { startDevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { runFlags as documentedRunFlags } from "../../scripts/permissions.ts";
import { runCli, SOURCE_DIR, startKeyring, tempConfig, withProvider } from "../helpers.ts";
import { startOidcProvider } from "../oidc_helpers.ts";

interface Check {
  name: string;
  status: "ok" | "warn" | "fail" | "fact";
  message: string;
  fix?: string;
  code?: string;
}

function byName(checks: Check[]): Record<string, Check> {
  return Object.fromEntries(checks.map((c) => [c.name, c]));
}

Deno.test("doctor against the built-in provider: one line per check, a login can work, exit 0", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const out = await runCli(["doctor", "--hostname", provider.origin], { configHome });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.equal(out.stderr, "");
    const lines = out.stdout.trimEnd().split("\n");
    assert.equal(lines.at(-1), `A login to ${provider.origin} can work`);
    for (const line of lines.slice(0, -1)) assert.match(line, /^[✓!·] \S/, line);
    assert.match(
      out.stdout,
      new RegExp(`^✓ host: ${provider.origin}/ answers \\(HTTP 404 in \\d+ ms\\)$`, "m"),
    );
    // GitHub's fixed endpoints are facts (·), never a ✓ for something that was not checked.
    assert.match(out.stdout, /^· PKCE S256: GitHub accepts it$/m);
    assert.match(out.stdout, /^· iss parameter \(RFC 9207\): GitHub sends none; /m);
    assert.doesNotMatch(out.stdout, /^✓ (endpoints|PKCE|device flow|revocation|iss)/m);
    // No keyring in this environment: a warning that says where tokens go and what to do.
    assert.match(
      out.stdout,
      new RegExp(
        `^! keyring: not usable \\(.+\\): tokens go to ${configDir}/tokens\\.json \\(mode 0600\\): make the keyring answer`,
        "m",
      ),
    );
    assert.match(
      out.stdout,
      new RegExp(`^✓ config directory: ${configDir} does not exist yet`, "m"),
    );
    assert.match(out.stdout, /^✓ proxy: none set /m);
    assert.match(
      out.stdout,
      /^✓ Deno permissions: net 127\.0\.0\.1, 127\.0\.0\.1:\d+; read and write /m,
    );
    assert.match(out.stdout, /^✓ clock: within \d+ s of 127\.0\.0\.1:\d+'s$/m);
    // It sent no token, and asked nothing but the two roots.
    assert.deepEqual(provider.requests.map((r) => `${r.method} ${r.path}`), [
      "GET /",
      "GET /api/v3/",
    ]);
    assert.ok(provider.requests.every((r) => r.headers.authorization === undefined));
    await assert.rejects(Deno.stat(configDir), Deno.errors.NotFound, "doctor created nothing");

    const json = await runCli(["doctor", "--hostname", provider.origin, "--json"], { configHome });
    assert.equal(json.code, 0);
    const report = JSON.parse(json.stdout);
    assert.equal(report.host, provider.origin);
    assert.equal(report.issuer, false);
    assert.equal(report.ok, true);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(report.checks.map((c: Check) => c.name), [
      "host",
      "api",
      "metadata",
      "pkce",
      "device",
      "revocation",
      "iss",
      "keyring",
      "config",
      "proxy",
      "ca",
      "permissions",
      "clock",
    ]);
    // Only what doctor asked is ok or not; what it only knows about GitHub is a fact.
    assert.deepEqual(
      report.checks.filter((c: Check) => c.status === "fact").map((c: Check) => c.name),
      ["metadata", "pkce", "device", "revocation", "iss"],
    );
  });
});

Deno.test("doctor against a real OpenID Provider: discovery and what it offers", async () => {
  await using op = await startOidcProvider();
  await using config = await tempConfig();
  const out = await runCli(["doctor", "--issuer", op.issuer, "--json"], {
    configHome: config.home,
  });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const report = JSON.parse(out.stdout);
  assert.equal(report.issuer, true);
  assert.equal(report.host, op.issuer);
  const checks = byName(report.checks);
  assert.equal(checks.host.status, "ok");
  assert.equal(
    checks.metadata.message,
    `metadata of ${op.issuer}: authorization ${op.issuer}/auth, token ${op.issuer}/token`,
  );
  assert.deepEqual(
    ["pkce", "device", "revocation", "iss"].map((n) => [checks[n].status, checks[n].message]),
    [
      ["ok", "PKCE S256: offered"],
      ["ok", `device flow: ${op.issuer}/device/auth`],
      ["ok", `revocation: ${op.issuer}/token/revocation`],
      ["ok", "iss parameter (RFC 9207): sent, and checked"],
    ],
  );
  assert.equal(checks.clock.status, "ok");

  // The built-in provider has no metadata: an issuer there cannot work, exit 5.
  const provider = startDevProvider();
  try {
    const none = await runCli(["doctor", "--issuer", provider.origin], {
      configHome: config.home,
    });
    assert.equal(none.code, EXIT_CODES.oauth, none.stdout);
    assert.match(none.stdout, /^✗ metadata: No OAuth metadata at .*: check --issuer: it must be/m);
  } finally {
    await provider.close();
  }
});

Deno.test("doctor with a real keyring: tokens go there", async () => {
  await using keyring = await startKeyring();
  await withProvider(async (provider, configHome) => {
    const out = await runCli(["doctor", "--hostname", provider.origin], {
      configHome,
      env: keyring.env,
    });
    assert.equal(out.code, 0, out.stdout);
    assert.match(out.stdout, /^✓ keyring: the Secret Service keyring answers: tokens go there$/m);
  });
});

Deno.test("doctor: each ✗ that blocks a login, with its exit code and what to do", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const host = ["--hostname", provider.origin];
    // A config directory other users may write to.
    await Deno.mkdir(configDir, { recursive: true, mode: 0o700 });
    await Deno.chmod(configDir, 0o777);
    const unsafe = await runCli(["doctor", ...host], { configHome });
    assert.equal(unsafe.code, EXIT_CODES.storage, unsafe.stdout);
    assert.match(
      unsafe.stdout,
      new RegExp(
        `^✗ config directory: Refusing to use ${configDir}: other users can write to it \\(mode 0777\\): run chmod 700 ${configDir}$`,
        "m",
      ),
    );
    assert.equal(
      unsafe.stderr,
      `Error: A login to ${provider.origin} cannot work yet: fix the ✗ lines above`,
    );
    await Deno.chmod(configDir, 0o700);

    // Keyring storage forced where none answers.
    const forced = await runCli(["doctor", ...host], {
      configHome,
      env: { LOOPAUTH_STORAGE: "keyring" },
    });
    assert.equal(forced.code, EXIT_CODES.storage, forced.stdout);
    assert.match(
      forced.stdout,
      /^✗ keyring: not usable \(.+\), and keyring storage is forced: start or unlock the keyring, or use --storage file$/m,
    );

    // No write permission for the config directory.
    const flags = ["--no-prompt", ...documentedRunFlags(configDir, [], { source: SOURCE_DIR })]
      .filter((f) => !f.startsWith("--allow-write"));
    const denied = await runCli(["doctor", ...host], { configHome, flags });
    assert.equal(denied.code, EXIT_CODES.permission, denied.stdout);
    assert.match(
      denied.stdout,
      new RegExp(`^✗ Deno permissions: missing --allow-write=${configDir}: run with them`, "m"),
    );
  });

  // A host that does not answer.
  const gone = startDevProvider();
  await gone.close();
  await using config = await tempConfig();
  const down = await runCli(["doctor", "--hostname", gone.origin, "--json"], {
    configHome: config.home,
  });
  assert.equal(down.code, EXIT_CODES.network);
  const report = JSON.parse(down.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.exitCode, EXIT_CODES.network);
  const checks = byName(report.checks);
  assert.equal(checks.host.status, "fail");
  assert.equal(checks.host.code, "network");
  assert.match(checks.host.message, /^host: Cannot reach 127\.0\.0\.1:\d+: connection refused$/);
  assert.equal(checks.clock.status, "warn");
  // What GitHub offers is not claimed for a host that did not answer.
  assert.equal(checks.pkce, undefined);
  assert.equal(checks.device, undefined);
  const text = await runCli(["doctor", "--hostname", gone.origin], { configHome: config.home });
  assert.equal(text.code, EXIT_CODES.network);
  assert.doesNotMatch(text.stdout, /^✓ (PKCE|device flow|revocation)/m, text.stdout);
  assert.match(
    text.stdout,
    new RegExp(
      `^! endpoints \\(PKCE, device flow, revocation\\): not checked: ${gone.origin} did not answer: fix the ✗ lines first$`,
      "m",
    ),
  );
});

Deno.test("doctor: a host whose API root answers 404 is a ✗ (exit 11), and GitHub's endpoints are not claimed for it", async () => {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    paths.push(new URL(request.url).pathname);
    return new Response("Not Found", { status: 404 });
  });
  try {
    const origin = `http://127.0.0.1:${server.addr.port}`;
    await using config = await tempConfig();
    const out = await runCli(["doctor", "--hostname", origin], { configHome: config.home });
    assert.equal(out.code, EXIT_CODES.api, out.stdout);
    assert.match(
      out.stdout,
      new RegExp(
        `^✗ API: ${origin}/api/v3 answered HTTP 404: no GitHub API there: check --hostname: a GitHub Enterprise Server has its API at /api/v3$`,
        "m",
      ),
    );
    assert.doesNotMatch(out.stdout, /^✓ (PKCE|device flow|revocation)/m, out.stdout);
    assert.match(
      out.stdout,
      new RegExp(`^! endpoints .*: not checked: no GitHub API at ${origin}/api/v3: `, "m"),
    );
    assert.equal(
      out.stderr,
      `Error: A login to ${origin} cannot work yet: fix the ✗ lines above`,
    );
    assert.deepEqual(paths, ["/", "/api/v3/"]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("doctor: a clock an hour off the server's is a warning, and a login can still work", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      Response.json({}, {
        headers: { date: new Date(Date.now() - 3_600_000).toUTCString() },
      }),
  );
  try {
    await using config = await tempConfig();
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const out = await runCli(["doctor", "--hostname", origin], { configHome: config.home });
    assert.equal(out.code, 0, out.stdout);
    assert.match(
      out.stdout,
      new RegExp(
        `^! clock: 60 min ahead of 127\\.0\\.0\\.1:${server.addr.port}'s: set the clock right`,
        "m",
      ),
    );
  } finally {
    await server.shutdown();
  }
});
