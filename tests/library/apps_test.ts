/**
 * Issue 28's done-when: two apps built on the library (tests/fixtures/app_cli.ts,
 * run as their own Deno processes with their own flags) and the loopauth CLI
 * log in to one dev provider as the same user, with one Secret Service
 * keyring and one agent: none reads, overwrites or removes another's token,
 * and every message and page names its own app.
 */
import assert from "node:assert/strict";
import {
  appPermissionFlags,
  login,
  LoopauthError,
  resolveApp,
  resumeLogin,
  startLogin,
} from "../../lib/mod.ts";
import { actAsUser, type DevProvider } from "../../lib/testing.ts";
import { ENV_VARS } from "../../scripts/permissions.ts";
import {
  Cli,
  type CliOptions,
  loginWith,
  providerLoginArgs,
  runCli,
  secretEnv,
  startAgent,
  startKeyring,
  type TestKeyring,
  withProvider,
} from "../helpers.ts";

const FIXTURE = new URL("../fixtures/app_cli.ts", import.meta.url).pathname;

/** How to run the app `name` (its own documented flags: appPermissionFlags). */
function appOptions(
  name: string,
  configHome: string,
  env: Record<string, string>,
): CliOptions {
  const app = resolveApp(name);
  const flags = appPermissionFlags(app, { configDir: `${configHome}/${name}`, hosts: [] });
  return {
    configHome,
    env,
    command: [Deno.execPath(), "run", "--no-prompt", ...flags, FIXTURE, name],
  };
}

/** The app logs in (the test plays the user); its output and the page the browser got. */
async function appLogin(provider: DevProvider, options: CliOptions) {
  const cli = new Cli(["login", provider.origin], options);
  const url = await cli.authorizationUrl();
  const page = await actAsUser(url);
  return { page, ...(await cli.output()) };
}

/** Each app's variables: its client id and secret under its own prefix. */
function appEnv(provider: DevProvider, prefix: string, keyring?: TestKeyring) {
  return {
    ...keyring?.env,
    [`${prefix}_CLIENT_ID`]: provider.clientId,
    [`${prefix}_CLIENT_SECRET`]: provider.clientSecret,
  };
}

Deno.test("apps: two apps and the CLI share one keyring and one agent without touching each other's tokens", async () => {
  await using keyring = await startKeyring();
  await withProvider(async (provider, configHome) => {
    const cliOptions = { configHome, env: keyring.env };
    await using agent = await startAgent(cliOptions);
    // The CLI's variables are set for the apps too: an app reads only its own.
    const cliVars = { LOOPAUTH_AGENT: agent.socket, LOOPAUTH_TOKEN: "gho_not_the_apps_token" };
    const stars = appOptions("ghstars", configHome, {
      ...appEnv(provider, "GHSTARS", keyring),
      ...cliVars,
    });
    const notes = appOptions("gh-notes", configHome, {
      ...appEnv(provider, "GH_NOTES", keyring),
      ...cliVars,
    });
    const host = provider.origin;

    const cliLogin = await loginWith(provider, cliOptions);
    assert.equal(cliLogin.code, 0, cliLogin.stderr);
    assert.match(cliLogin.page.body, /<title>Logged in to .+ · loopauth<\/title>/);
    const cliToken = JSON.parse((await keyring.lookup(host, "octocat"))!).accessToken;

    const starsLogin = await appLogin(provider, stars);
    assert.equal(starsLogin.code, 0, starsLogin.stderr);
    assert.match(starsLogin.stderr, /^ghstars: logged in to .+ as octocat \(keyring\)$/m);
    assert.match(starsLogin.page.body, /<title>Logged in to .+ · ghstars<\/title>/);
    assert.match(starsLogin.page.body, /<footer>ghstars<\/footer>/);
    const notesLogin = await appLogin(provider, notes);
    assert.equal(notesLogin.code, 0, notesLogin.stderr);
    assert.match(notesLogin.page.body, /<footer>gh-notes<\/footer>/);

    // Three items in one keyring, one per app, same host and account.
    const item = async (service: string) =>
      JSON.parse((await keyring.lookup(host, "octocat", service))!).accessToken;
    const starsToken = await item("ghstars");
    const notesToken = await item("gh-notes");
    assert.equal(await item("loopauth"), cliToken, "the CLI's item is untouched");
    assert.equal(new Set([cliToken, starsToken, notesToken]).size, 3);
    assert.equal(provider.activeTokens().length, 3);
    // Each reads its own (an app ignores LOOPAUTH_TOKEN; the CLI would use it, so not set there).
    const token = (options: CliOptions) => runCli(["token", host], options);
    assert.equal((await token(stars)).stdout, `${starsToken}\n`);
    assert.equal((await token(notes)).stdout, `${notesToken}\n`);
    const cliRead = await runCli(["token", "--hostname", host], cliOptions);
    assert.equal(cliRead.stdout, `${cliToken}\n`, cliRead.stderr);
    // Each app has its own config directory.
    for (const name of ["loopauth", "ghstars", "gh-notes"]) {
      const config = JSON.parse(await Deno.readTextFile(`${configHome}/${name}/config.json`));
      assert.deepEqual(Object.keys(config.hosts), [host]);
    }

    // ghstars' logout revokes and removes its own token only.
    const starsOut = await runCli(["logout", host], stars);
    assert.equal(starsOut.code, 0, starsOut.stderr);
    assert.equal(await keyring.lookup(host, "octocat", "ghstars"), undefined);
    assert.equal(await item("gh-notes"), notesToken);
    assert.equal(await item("loopauth"), cliToken);
    assert.deepEqual(provider.activeTokens().toSorted(), [cliToken, notesToken].toSorted());
    // Its next step names its own command; the others' still work.
    const after = await runCli(["token", host], stars);
    assert.equal(after.code, 3);
    assert.equal(
      after.stderr,
      `ghstars: Not logged in to ${host}: run ghstars login --hostname ${host}`,
    );
    assert.equal((await token(notes)).stdout, `${notesToken}\n`);
    assert.equal((await runCli(["token", "--hostname", host], cliOptions)).stdout, `${cliToken}\n`);

    // The CLI's logout leaves gh-notes' token, and gh-notes' its own message.
    const cliOut = await runCli(["logout", "--hostname", host], cliOptions);
    assert.equal(cliOut.code, 0, cliOut.stderr);
    assert.equal(await item("gh-notes"), notesToken);
    const notesOut = await runCli(["logout", host], notes);
    assert.equal(notesOut.code, 0, notesOut.stderr);
    assert.equal(await keyring.lookup(host, "octocat", "gh-notes"), undefined);
    assert.deepEqual(provider.activeTokens(), []);
    const notesAfter = await runCli(["token", host], notes);
    assert.match(
      notesAfter.stderr,
      /^gh-notes: Not logged in to .+: run gh-notes login --hostname /,
    );
  });
});

Deno.test("apps: an app's agent is its own: LOOPAUTH_AGENT (the CLI's) is not its variable", async () => {
  await withProvider(async (provider, configHome) => {
    await using agent = await startAgent({ configHome });
    const options = appOptions("ghstars", configHome, {
      ...appEnv(provider, "GHSTARS"),
      LOOPAUTH_AGENT: agent.socket,
      GHSTARS_STORAGE: "agent",
    });
    const out = await runCli(["login", provider.origin], options);
    assert.equal(out.code, 8, out.stderr);
    assert.equal(
      out.stderr,
      `ghstars: No agent is running at ${configHome}/ghstars/agent/agent.sock: start one at that socket first, or keep the token elsewhere`,
    );
    assert.equal(provider.activeTokens().length, 0);

    // As it says: an agent started at that socket (here loopauth's own, as docs/library.md says).
    const socket = `${configHome}/ghstars/agent/agent.sock`;
    await using own = await startAgent({ configHome }, "--socket", socket);
    assert.equal(own.socket, socket);
    const again = await appLogin(provider, options);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^ghstars: logged in to .+ as octocat \(agent\)$/m);
    const [token] = provider.activeTokens();
    assert.equal((await runCli(["token", provider.origin], options)).stdout, `${token}\n`);
    // The CLI's agent holds nothing of it.
    const cliToken = await runCli(["token", "--hostname", provider.origin], {
      configHome,
      env: { LOOPAUTH_AGENT: agent.socket },
    });
    assert.equal(cliToken.code, 3, cliToken.stderr);
  });
});

Deno.test("apps: a failed login's page and error name no loopauth command (run the command again)", async () => {
  await withProvider(async (provider) => {
    provider.tokenError = "bad_verification_code";
    let page: Promise<{ status: number; body: string }> | undefined;
    const failed = await login({
      app: "ghstars",
      hostname: provider.origin,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      store: false,
      flow: "web",
      openBrowser: false,
      onAuthorizationUrl: (url) => page = actAsUser(url),
    }).catch((e) => e);
    assert.ok(failed instanceof LoopauthError);
    assert.match(failed.message, /: run the command again$/);
    const { body } = await page!;
    assert.match(body, /run the command again\. Return to the terminal\./);
    assert.doesNotMatch(body, /loopauth/);
  });
});

Deno.test("apps: a two-step login is the app's too (its waiter's pages, its words)", async () => {
  await withProvider(async (provider, _home, configDir) => {
    const app = "ghstars";
    const pending = await startLogin({
      app,
      hostname: provider.origin,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      configDir,
      storage: "file",
      flow: "web",
      openBrowser: false,
    });
    const resumed = resumeLogin(pending.id, { app, configDir });
    const page = await actAsUser(pending.url!);
    assert.match(page.body, /<footer>ghstars<\/footer>/);
    assert.equal((await resumed).login, "octocat");
    const gone = await resumeLogin("0123456789abcdef", { app, configDir }).catch((e) => e);
    assert.ok(gone instanceof LoopauthError);
    // Its status command is not the CLI's: that hint goes (tests/unit/app_message_test.ts).
    assert.equal(gone.message, "No login 0123456789abcdef is waiting: it ended or expired");
  });
});

Deno.test("apps: appPermissionFlags are the CLI's list (scripts/permissions.ts) with the app's names", () => {
  const configDir = "/home/me/.config/ghstars";
  const flags = appPermissionFlags(resolveApp("ghstars"), { configDir, hosts: ["github.com"] });
  const env = flags.find((f) => f.startsWith("--allow-env="))!.slice("--allow-env=".length);
  assert.deepEqual(env.split(","), ENV_VARS.map((name) => name.replace(/^LOOPAUTH_/, "GHSTARS_")));
  assert.ok(!env.includes("LOOPAUTH_"));
  assert.ok(flags.includes(`--allow-read=${configDir}`));
  assert.ok(flags.includes(`--allow-write=${configDir}`));
  assert.match(
    flags[0],
    /^--allow-net=127\.0\.0\.1,\[::1\],github\.com,unix:\/home\/me\/\.config\/ghstars\/agent\/agent\.sock$/,
  );
  // The CLI as an app: its own list, unchanged.
  const cli = appPermissionFlags(resolveApp(), { configDir: "/c" });
  assert.ok(cli.includes(`--allow-env=${ENV_VARS.join(",")}`));
});

Deno.test("apps: an app's words replace the CLI's flags in its messages", async () => {
  const app = { name: "ghstars", words: { "--web": "--browser", "--redirect-uri": "--callback" } };
  const refused = await login({
    app,
    hostname: "http://127.0.0.1:9",
    clientId: "x",
    store: false,
    flow: "device",
    redirectUri: "http://127.0.0.1:8123/callback",
  }).catch((e) => e);
  assert.ok(refused instanceof LoopauthError);
  assert.equal(refused.code, "usage");
  assert.match(refused.message, /^--callback, --prompt, .*: drop them or use --browser$/);
  // Without a word for --web the hint goes; the reason stays, with its reason code.
  const lacking = await login({
    app: "ghstars",
    hostname: "http://127.0.0.1:9",
    clientId: "x",
    store: false,
    flow: "device",
    redirectUri: "http://127.0.0.1:8123/callback",
  }).catch((e) => e);
  assert.ok(lacking instanceof LoopauthError);
  assert.equal(
    lacking.message,
    "--redirect-uri, --prompt, --login-hint and --param are for the browser flow; the device flow has no place for them",
  );
});

Deno.test("apps: every hint an app prints runs in it as printed; one naming a flag it lacks is left out", async () => {
  await withProvider(async (provider, configHome) => {
    // tests/fixtures/app_cli.ts: words for --hostname (its own) and --timeout (its --wait), no --storage.
    const stars = appOptions("ghstars", configHome, appEnv(provider, "GHSTARS"));
    const host = provider.origin;
    /** Runs what the message's hint says (`… run ghstars login --hostname H`), as printed. */
    const runHint = (command: string) => {
      const [program, ...args] = command.split(" ");
      assert.equal(program, "ghstars");
      return new Cli(args, stars);
    };

    // A mapped flag, as the CLI's: not logged in names the app's login with --hostname.
    const missing = await runCli(["token", "--hostname", host], stars);
    assert.equal(missing.code, 3);
    const [, login] = /^ghstars: Not logged in to \S+: run (ghstars login --hostname \S+)$/.exec(
      missing.stderr,
    )!;
    const first = runHint(login);
    await actAsUser(await first.authorizationUrl());
    assert.equal((await first.output()).code, 0);

    // A mapped flag in the app's word: the timeout's hint says --wait, and --wait works.
    const short = await runCli(["login", "--hostname", host, "--wait", "1s"], stars);
    assert.equal(short.code, 6, short.stderr);
    const timedOut = short.stderr.split("\n").at(-1)!;
    assert.equal(
      timedOut,
      "ghstars: Timed out after 1s waiting for the browser: run the command again, or wait longer with --wait",
    );
    const longer = runHint(`ghstars login --hostname ${host} --wait 5m`);
    await actAsUser(await longer.authorizationUrl());
    const loggedIn = await longer.output();
    assert.equal(loggedIn.code, 0, loggedIn.stderr);

    // A flag it lacks: the CLI's message says "use --storage file"; the app's leaves it out.
    const noKeyring = { ...stars, env: { ...stars.env, GHSTARS_STORAGE: "keyring" } };
    const app = await runCli(["login", "--hostname", host], noKeyring);
    assert.equal(app.code, 8, app.stderr);
    assert.match(app.stderr, /^ghstars: No OS keyring is available \([^)]+\)$/);
    const cli = await runCli(providerLoginArgs(provider, "--storage", "keyring"), {
      configHome,
      env: secretEnv(provider),
    });
    assert.equal(cli.code, 8, cli.stderr);
    assert.match(
      cli.stderr,
      /^Error: No OS keyring is available \([^)]+\): use --storage file to store the token in a file$/m,
    );
    // (Printed, it would not run: the app has no such flag.)
    const asPrinted = await runCli(["login", "--hostname", host, "--storage", "file"], stars);
    assert.equal(asPrinted.code, 2);
    assert.equal(asPrinted.stderr, "ghstars: Unknown flag --storage: use --hostname or --wait");
  });
});
