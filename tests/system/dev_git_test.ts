/**
 * Real git against the built-in provider's demo repository (smart HTTP
 * through `git http-backend`): cloned and pushed to with `loopauth
 * git-credential` as the helper, refused without it. git's own config is a
 * file of the test (GIT_CONFIG_GLOBAL), never the user's.
 */
import assert from "node:assert/strict";
import { actAsUser, approveDeviceCode } from "../../lib/dev/provider.ts";
import {
  childEnv,
  Cli,
  gitEnv,
  loginOnce,
  runCli,
  TEST_TMP_DIR,
  withProvider,
} from "../helpers.ts";

/** Runs git with the test's own global config; its output. */
async function git(
  args: string[],
  configHome: string,
  extra: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("git", {
    args,
    env: {
      ...childEnv(configHome),
      ...gitEnv(configHome),
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
      ...extra,
    },
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

Deno.test("git clones and pushes the demo repository with loopauth git-credential, and is refused without", async () => {
  await withProvider(async (provider, configHome) => {
    const work = `${configHome}/work`;
    await Deno.mkdir(work, { mode: 0o700 });
    await Deno.writeTextFile(`${configHome}/gitconfig`, "", { mode: 0o600 });
    const url = provider.repository.cloneUrl;
    assert.equal(url, `${provider.origin}/octocat/hello-world.git`);

    // No credentials: git is asked for a user name, may not prompt, and fails.
    const anonymous = await git(["clone", url, `${work}/anonymous`], configHome);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /could not read Username/);
    const refused = provider.requests.filter((r) => r.path.includes("/info/refs"));
    assert.ok(refused.length > 0 && refused.every((r) => !r.headers.authorization));

    // A token git cannot use: a wrong one is refused with GitHub's message.
    const wrong = new URL(url);
    wrong.username = "octocat";
    wrong.password = "gho_wrong";
    const bad = await git(["clone", wrong.href, `${work}/bad`], configHome);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Invalid username or token/);

    // Logged in with the repo scope, and loopauth set up as git's helper.
    const login = await loginOnce(provider, configHome, "--storage", "file", "--scopes", "repo");
    assert.equal(login.code, 0, login.stderr);
    const setup = await runCli(["setup-git", "--hostname", provider.origin], {
      configHome,
      env: { GIT_CONFIG_GLOBAL: `${configHome}/gitconfig`, GIT_CONFIG_NOSYSTEM: "1" },
    });
    assert.equal(setup.code, 0, setup.stderr);
    const [token] = provider.activeTokens();

    const clone = await git(["clone", url, `${work}/clone`], configHome);
    assert.equal(clone.code, 0, clone.stderr);
    assert.match(await Deno.readTextFile(`${work}/clone/README.md`), /^# hello-world\n/);
    const fetches = provider.requests.filter((r) => r.path.endsWith("/git-upload-pack"));
    assert.ok(fetches.length > 0, "the pack came from git-upload-pack");
    for (const sent of fetches) {
      assert.equal(sent.headers.authorization, `Basic ${btoa(`octocat:${token}`)}`);
    }

    // A push goes through git-receive-pack; a second clone has it.
    await Deno.writeTextFile(`${work}/clone/notes.txt`, "pushed through the dev-server\n");
    assert.equal((await git(["-C", `${work}/clone`, "add", "notes.txt"], configHome)).code, 0);
    const commit = await git(["-C", `${work}/clone`, "commit", "-q", "-m", "Notes"], configHome);
    assert.equal(commit.code, 0, commit.stderr);
    const push = await git(["-C", `${work}/clone`, "push", "-q", "origin", "main"], configHome);
    assert.equal(push.code, 0, push.stderr);
    assert.ok(provider.requests.some((r) => r.path.endsWith("/git-receive-pack")));
    const again = await git(["clone", "-q", url, `${work}/again`], configHome);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      await Deno.readTextFile(`${work}/again/notes.txt`),
      "pushed through the dev-server\n",
    );
  }, { dir: TEST_TMP_DIR });
});

Deno.test("git smart HTTP: a token without the repo scope finds no repository; only the demo exists", async () => {
  await withProvider(async (provider) => {
    const answer = async (path: string, token?: string) => {
      const response = await fetch(`${provider.origin}${path}`, {
        headers: token ? { authorization: `Basic ${btoa(`x:${token}`)}` } : {},
      });
      return { status: response.status, body: await response.text(), headers: response.headers };
    };
    const service = "/info/refs?service=git-upload-pack";
    const anonymous = await answer(`/octocat/hello-world.git${service}`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("www-authenticate"), 'Basic realm="GitHub"');

    const token = async (scope: string) => {
      provider.scopesGranted = scope ? [scope] : [];
      const device = await fetch(`${provider.origin}/login/device/code`, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/json" },
        body: JSON.stringify({ client_id: provider.clientId }),
      }).then((r) => r.json());
      await approveDeviceCode(provider.origin, device.user_code);
      const grant = await fetch(`${provider.origin}/login/oauth/access_token`, {
        method: "POST",
        headers: { accept: "application/json" },
        body: new URLSearchParams({
          client_id: provider.clientId,
          device_code: device.device_code,
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        }),
      }).then((r) => r.json());
      return grant.access_token as string;
    };
    const noScope = await token("");
    const unscoped = await answer(`/octocat/hello-world.git${service}`, noScope);
    assert.equal(unscoped.status, 404);
    assert.equal(unscoped.body, "Repository not found.\n");

    const repo = await token("repo");
    const refs = await answer(`/octocat/hello-world${service}`, repo); // .git is optional
    assert.equal(refs.status, 200, refs.body);
    assert.equal(refs.headers.get("content-type"), "application/x-git-upload-pack-advertisement");
    assert.match(refs.body, /# service=git-upload-pack/);
    assert.match(refs.body, /refs\/heads\/main/);
    const other = await answer(`/octocat/other.git${service}`, repo);
    assert.equal(other.status, 404);
  }, { dir: TEST_TMP_DIR, deviceInterval: 0 });
});

Deno.test("git refused for lack of the repo scope: the helper's note names loopauth refresh --scopes repo, which works as printed", async () => {
  await withProvider(async (provider, configHome) => {
    const work = `${configHome}/work`;
    await Deno.mkdir(work, { mode: 0o700 });
    await Deno.writeTextFile(`${configHome}/gitconfig`, "", { mode: 0o600 });
    const gitConfig = { GIT_CONFIG_GLOBAL: `${configHome}/gitconfig`, GIT_CONFIG_NOSYSTEM: "1" };
    const login = await loginOnce(
      provider,
      configHome,
      "--storage",
      "file",
      "--scopes",
      "read:user",
    );
    assert.equal(login.code, 0, login.stderr);
    const setup = await runCli(["setup-git", "--hostname", provider.origin], {
      configHome,
      env: gitConfig,
    });
    assert.equal(setup.code, 0, setup.stderr);

    const refused = await git(["clone", provider.repository.cloneUrl, `${work}/a`], configHome);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /not found/);
    const note = refused.stderr.split("\n").find((line) => line.startsWith("loopauth: "));
    assert.equal(
      note,
      `loopauth: the token of octocat on ${provider.origin} has no repo scope, so git reaches public repositories only; for private ones run loopauth refresh --hostname ${provider.origin} --scopes repo`,
    );

    // The hint, exactly as printed; the user approves in the browser.
    const [program, ...args] = /run (loopauth .+)$/.exec(note!)![1].split(" ");
    assert.equal(program, "loopauth");
    const refresh = new Cli(args, { configHome });
    const page = await actAsUser(await refresh.authorizationUrl());
    assert.equal(page.status, 200, page.body);
    const refreshed = await refresh.output();
    assert.equal(refreshed.code, 0, refreshed.stderr);

    const clone = await git(["clone", provider.repository.cloneUrl, `${work}/b`], configHome);
    assert.equal(clone.code, 0, clone.stderr);
    assert.ok(!clone.stderr.includes("loopauth:"), "no note once the token has repo");
  }, { dir: TEST_TMP_DIR });
});
