/**
 * `LOOPAUTH_USER`: the account of one process. Two accounts on one dev
 * provider host; processes with different `LOOPAUTH_USER` run at once, each
 * gets its own token, and `config.json`'s active account never changes.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { actAsUser, type DevProvider } from "../../lib/dev/provider.ts";
import {
  childEnv,
  Cli,
  loginOnce,
  loginWith,
  MAIN,
  runCli,
  runFlags,
  runWithInput,
  saveFileAccount,
  tokenRequests,
  withProvider,
} from "../helpers.ts";

/** The login the provider says a token belongs to (its check endpoint), or `undefined`. */
async function ownerOf(provider: DevProvider, token: string): Promise<string | undefined> {
  const response = await fetch(
    `${provider.origin}/api/v3/applications/${provider.clientId}/token`,
    {
      method: "POST",
      headers: {
        authorization: `basic ${btoa(`${provider.clientId}:${provider.clientSecret}`)}`,
      },
      body: JSON.stringify({ access_token: token }),
    },
  );
  if (response.status !== 200) {
    await response.body?.cancel();
    return undefined;
  }
  return (await response.json()).user.login;
}

/** The active account of `host` in config.json. */
async function activeOf(configHome: string, host: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(`${configHome}/loopauth/config.json`));
  return config.hosts[host].active;
}

/** Logs in octocat, then hubot (who becomes active), with file storage. */
async function twoAccounts(provider: DevProvider, configHome: string): Promise<void> {
  assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
  provider.user = { login: "hubot", id: 2, name: "Hubot" };
  const second = await loginOnce(provider, configHome, "--storage", "file");
  assert.equal(second.code, 0, second.stderr);
  assert.equal(await activeOf(configHome, provider.origin), "hubot");
}

Deno.test("LOOPAUTH_USER: two processes at once each get their own account's token; the active account never changes", async () => {
  await withProvider(async (provider, configHome) => {
    await twoAccounts(provider, configHome);
    const host = ["--hostname", provider.origin];
    const refreshesBefore = provider.requests.filter((r) => r.body.includes("refresh_token"))
      .length;
    // Every use refreshes (the tokens expire within the minute): each process writes the store.
    const runs = ["octocat", "hubot", "octocat", "hubot"].map((user, i) =>
      new Cli(i < 2 ? ["token", ...host] : ["api", ...host, "/user"], {
        configHome,
        env: { LOOPAUTH_USER: user },
      })
    );
    const [octocatToken, hubotToken, octocatApi, hubotApi] = await Promise.all(
      runs.map((run) => run.output()),
    );
    for (const run of [octocatToken, hubotToken, octocatApi, hubotApi]) {
      assert.equal(run.code, 0, run.stderr);
    }
    assert.equal(await ownerOf(provider, octocatToken.stdout.trim()), "octocat");
    assert.equal(await ownerOf(provider, hubotToken.stdout.trim()), "hubot");
    // The API saw each process's own account.
    assert.equal(JSON.parse(octocatApi.stdout).login, "octocat");
    assert.equal(JSON.parse(hubotApi.stdout).login, "hubot");
    assert.ok(
      provider.requests.filter((r) => r.body.includes("refresh_token")).length > refreshesBefore,
      "the processes refreshed (and wrote the store) while they ran",
    );
    assert.equal(await activeOf(configHome, provider.origin), "hubot");

    // Without it the active account (hubot), as before; --user wins over it.
    const plain = await runCli(["token", ...host], { configHome });
    assert.equal(await ownerOf(provider, plain.stdout.trim()), "hubot");
    const flag = await runCli(["token", ...host, "--user", "hubot"], {
      configHome,
      env: { LOOPAUTH_USER: "octocat" },
    });
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal(await ownerOf(provider, flag.stdout.trim()), "hubot");
    assert.equal(await activeOf(configHome, provider.origin), "hubot");
  }, { expiringTokens: { accessTtl: 30, refreshTtl: 3600 } });
});

Deno.test("LOOPAUTH_USER naming an unknown account: one line whose way out works as printed", async () => {
  await withProvider(async (provider, configHome) => {
    await twoAccounts(provider, configHome);
    const host = ["--hostname", provider.origin];
    const before = provider.requests.length;
    const unknown = await runCli(["token", ...host], {
      configHome,
      env: { LOOPAUTH_USER: "nobody" },
    });
    assert.equal(unknown.code, EXIT_CODES.not_logged_in);
    assert.equal(unknown.stdout, "");
    assert.equal(
      unknown.stderr,
      `Error: LOOPAUTH_USER names nobody, who is not logged in to ${provider.origin}: ` +
        "set LOOPAUTH_USER to octocat or hubot, or unset LOOPAUTH_USER",
    );
    assert.equal(provider.requests.length, before, "nothing was sent");
    // The way out, as printed: another value, or none (the active account).
    const octocat = await runCli(["token", ...host], {
      configHome,
      env: { LOOPAUTH_USER: "octocat" },
    });
    assert.equal(octocat.code, 0, octocat.stderr);
    assert.equal(await ownerOf(provider, octocat.stdout.trim()), "octocat");
    const unset = await runCli(["token", ...host], { configHome });
    assert.equal(await ownerOf(provider, unset.stdout.trim()), "hubot");

    // api and logout say the same, and logout removes nothing.
    for (const args of [["api", ...host, "/user"], ["logout", ...host]]) {
      const run = await runCli(args, { configHome, env: { LOOPAUTH_USER: "nobody" } });
      assert.equal(run.code, EXIT_CODES.not_logged_in, args[0]);
      assert.equal(run.stderr, unknown.stderr, args[0]);
    }
    assert.equal(await activeOf(configHome, provider.origin), "hubot");

    // A value with a control character is no login: a usage error naming the variable.
    const bad = await runCli(["token", ...host], {
      configHome,
      env: { LOOPAUTH_USER: "octo\u001b[2Jcat" },
    });
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.equal(
      bad.stderr,
      "Error: LOOPAUTH_USER does not name an account: set it to a login that loopauth status lists, or unset it",
    );
    const status = await runCli(["status", "--offline"], { configHome });
    assert.match(status.stdout, /^ {2}octocat: unchecked$/m);
  });
});

Deno.test("LOOPAUTH_USER picks git's account when git names none; an account not logged in there gets nothing", async () => {
  await withProvider(async (provider, configHome) => {
    await twoAccounts(provider, configHome);
    const request = `protocol=http\nhost=${new URL(provider.origin).host}\n\n`;
    const dir = `${configHome}/loopauth`;
    const fill = (env: Record<string, string>) =>
      runWithInput(
        Deno.execPath(),
        ["run", ...runFlags(dir), MAIN, "git-credential", "get"],
        request,
        { env: childEnv(configHome, env) },
      );
    const octocat = await fill({ LOOPAUTH_USER: "octocat" });
    assert.equal(octocat.code, 0, octocat.stderr);
    assert.match(octocat.stdout, /^username=octocat$/m);
    const password = /^password=(.*)$/m.exec(octocat.stdout)?.[1] ?? "";
    assert.equal(await ownerOf(provider, password), "octocat");
    const nobody = await fill({ LOOPAUTH_USER: "nobody" });
    assert.equal(nobody.code, 0, nobody.stderr);
    assert.equal(nobody.stdout, "", "never the active account instead");
    assert.match((await fill({})).stdout, /^username=hubot$/m);
  });
});

Deno.test("LOOPAUTH_USER: a login keeps the host's active account; a login as another account is a warning", async () => {
  await withProvider(async (provider, configHome) => {
    await twoAccounts(provider, configHome); // hubot active
    provider.user = { login: "monalisa", id: 3, name: "Mona" };
    const agentLogin = await loginWith(
      provider,
      { configHome, env: { LOOPAUTH_USER: "monalisa" } },
      "--storage",
      "file",
    );
    assert.equal(agentLogin.code, 0, agentLogin.stderr);
    assert.doesNotMatch(agentLogin.stderr, /^Warning: logged in as/m);
    assert.equal(await activeOf(configHome, provider.origin), "hubot");
    const mine = await runCli(["token", "--hostname", provider.origin], {
      configHome,
      env: { LOOPAUTH_USER: "monalisa" },
    });
    assert.equal(await ownerOf(provider, mine.stdout.trim()), "monalisa");

    // The browser signed in as someone else: stored, not active, and said so.
    provider.user = { login: "octocat", id: 1, name: "The Octocat" };
    const other = await loginWith(
      provider,
      { configHome, env: { LOOPAUTH_USER: "monalisa" } },
      "--storage",
      "file",
    );
    assert.equal(other.code, 0, other.stderr);
    assert.match(
      other.stderr,
      /^Warning: logged in as octocat, but LOOPAUTH_USER names monalisa: set LOOPAUTH_USER=octocat to use this account$/m,
    );
    assert.equal(await activeOf(configHome, provider.origin), "hubot");
    // The way out it names works.
    const named = await runCli(["token", "--hostname", provider.origin], {
      configHome,
      env: { LOOPAUTH_USER: "octocat" },
    });
    assert.equal(await ownerOf(provider, named.stdout.trim()), "octocat");
  });
});

Deno.test("LOOPAUTH_USER: a plain login takes the app and scopes of the account it names, not the host's active one", async () => {
  await withProvider(async (provider, configHome, configDir) => {
    const first = await loginOnce(
      provider,
      configHome,
      "--storage",
      "file",
      "--scopes",
      "read:user",
    );
    assert.equal(first.code, 0, first.stderr);
    // hubot, the active account, was logged in with another app (one this provider does not know).
    await saveFileAccount(
      configDir,
      { host: provider.origin, login: "hubot", accessToken: "gho_hubotsOwnToken1" },
      { clientId: "other-app", scopes: ["repo", "gist"] },
    );
    assert.equal(await activeOf(configHome, provider.origin), "hubot");

    // A plain login as the user types it: no --client-id, --scopes or secret.
    const cli = new Cli(["login", "--hostname", provider.origin], {
      configHome,
      env: { LOOPAUTH_USER: "octocat" },
    });
    const url = new URL(await cli.authorizationUrl());
    assert.equal(url.searchParams.get("client_id"), provider.clientId, "octocat's app");
    assert.equal(url.searchParams.get("scope"), "read:user", "octocat's scopes, not hubot's");
    await actAsUser(url.href);
    const out = await cli.output();
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged in to ${provider.origin} as octocat\n`);
    // The code exchange carried the secret octocat's login stored.
    const exchange = tokenRequests(provider, "authorization_code").at(-1)!;
    assert.equal(new URLSearchParams(exchange.body).get("client_secret"), provider.clientSecret);
    assert.equal(await activeOf(configHome, provider.origin), "hubot");

    // Without LOOPAUTH_USER the same plain login takes the active account's app: hubot's,
    // which this provider refuses at once.
    const plain = await runCli(["login", "--hostname", provider.origin], { configHome });
    assert.equal(plain.code, EXIT_CODES.oauth, plain.stderr);
    assert.match(plain.stderr, /does not know the client id other-app: check --client-id$/);
  }, { autoApprove: false });
});
