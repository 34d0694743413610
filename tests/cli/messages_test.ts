/**
 * What the CLI tells a user who is logged in somewhere else than they
 * asked: issuer accounts are named with `--issuer URL`, never passed through
 * the GitHub host parser, and skipped by setup-git; `token` names the hosts
 * that are stored.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { loginOnce, runCli, tempConfig, withProvider } from "../helpers.ts";

const ISSUER = "https://id.example.com";

/** A config directory holding one issuer account (file storage; its token optional). */
async function issuerAccount(dir: string, { withToken = true } = {}) {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const record = {
    login: "alice",
    clientId: "cli",
    scopes: ["openid"],
    storage: "file",
    createdAt: "2026-01-01T00:00:00.000Z",
    issuer: true,
  };
  const config = JSON.parse(
    await Deno.readTextFile(`${dir}/config.json`).catch(() => '{"version":1,"hosts":{}}'),
  );
  config.hosts[ISSUER] = { active: "alice", accounts: { alice: record } };
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config), { mode: 0o600 });
  if (withToken) {
    const tokens = JSON.parse(
      await Deno.readTextFile(`${dir}/tokens.json`).catch(() => '{"version":1,"hosts":{}}'),
    );
    tokens.hosts[ISSUER] = { alice: { accessToken: "at-alice", tokenType: "bearer" } };
    await Deno.writeTextFile(`${dir}/tokens.json`, JSON.stringify(tokens), { mode: 0o600 });
  }
}

Deno.test("an issuer account whose token is gone: status and logout say --issuer URL", async () => {
  await using config = await tempConfig();
  await issuerAccount(config.dir, { withToken: false });
  const status = await runCli(["status", "--offline"], { configHome: config.home });
  assert.equal(status.code, EXIT_CODES.session_expired);
  assert.match(
    status.stderr,
    new RegExp(
      `^Error: The token of alice on ${ISSUER} is missing: run loopauth login --issuer ${ISSUER}$`,
    ),
  );
  const logout = await runCli(["logout", "--issuer", ISSUER], { configHome: config.home });
  assert.equal(logout.code, EXIT_CODES.not_logged_in);
  assert.match(
    logout.stderr,
    new RegExp(
      `^Error: The token of alice on ${ISSUER} is missing from .*: run loopauth login --issuer ${ISSUER}$`,
    ),
  );
});

Deno.test("status, logout and setup-git with nothing stored: not logged in, exit 3", async () => {
  await using config = await tempConfig();
  const other = "https://other.example.com/realms/dev";
  const cases: [string[], RegExp][] = [
    [
      ["status", "--issuer", other],
      new RegExp(`^Error: Not logged in to ${other}: run loopauth login --issuer ${other}$`),
    ],
    [
      ["logout", "--issuer", other],
      new RegExp(`^Error: Not logged in to ${other}: run loopauth login --issuer ${other}$`),
    ],
    [
      ["logout", "--all", "--issuer", other],
      new RegExp(`^Error: Not logged in to ${other}: nothing to log out of$`),
    ],
    [
      ["setup-git"],
      /^Error: Not logged in to any GitHub host: log in first \(see loopauth help login\), or give --hostname$/,
    ],
  ];
  for (const [args, message] of cases) {
    const out = await runCli(args, { configHome: config.home });
    assert.equal(out.code, EXIT_CODES.not_logged_in, `${args.join(" ")}: ${out.stderr}`);
    assert.match(out.stderr, message, args.join(" "));
  }
  // setup-git's pointer works as printed.
  const help = await runCli(["help", "login"], { configHome: config.home });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: loopauth login /m);
});

Deno.test("setup-git skips issuer accounts with a note and configures the GitHub hosts", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    await issuerAccount(configDir);
    const env = { GIT_CONFIG_GLOBAL: `${configHome}/gitconfig`, GIT_CONFIG_NOSYSTEM: "1" };
    const setup = await runCli(["setup-git"], { configHome, env });
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(setup.stdout, `Configured git to use loopauth for ${provider.origin}\n`);
    assert.match(setup.stderr, new RegExp(`^Skipped ${ISSUER}: it is an OAuth issuer`, "m"));
    const gitconfig = await Deno.readTextFile(`${configHome}/gitconfig`);
    assert.ok(!gitconfig.includes("id.example.com"), gitconfig);
  });
});

Deno.test("token without --hostname: github.com stays the default, the stored host is named", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const out = await runCli(["token"], { configHome });
    assert.equal(out.code, EXIT_CODES.not_logged_in);
    assert.equal(out.stdout, "");
    assert.equal(
      out.stderr,
      `Error: Not logged in to github.com: run loopauth login, or use --hostname ${provider.origin} (logged in there)`,
    );
  });
});
