/**
 * Secrets: everything a full run shows or leaves (stdout, stderr, browser
 * pages, files in the config directory) is collected, and no code, state,
 * verifier or refresh token appears in any of it; the access token only in
 * `token`'s output and in the token store. Also: two logins to one host at
 * once both finish and leave a consistent store.
 */
import assert from "node:assert/strict";
import { actAsUser, startDevProvider } from "../lib/dev/provider.ts";
import { Cli, loginArgs, loginWith, runCli, tempConfig } from "./helpers.ts";

const env = { LOOPAUTH_STORAGE: "file" };

async function filesUnder(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) Object.assign(files, await filesUnder(path));
    else if (entry.isFile) files[path] = await Deno.readTextFile(path);
  }
  return files;
}

Deno.test("a full run leaks no code, state, verifier or refresh token anywhere", async () => {
  const provider = startDevProvider({
    autoApprove: true,
    expiringTokens: { accessTtl: 28_800, refreshTtl: 15_897_600 },
  });
  await using config = await tempConfig();
  try {
    const { url, page, ...login } = await loginWith(provider, { configHome: config.home, env });
    assert.equal(login.code, 0, login.stderr);
    const exchange = provider.requests.find((r) => r.path === "/login/oauth/access_token")!;
    const sent = new URLSearchParams(exchange.body);
    const code = sent.get("code")!;
    const verifier = sent.get("code_verifier")!;
    const state = new URL(url).searchParams.get("state")!;
    const [refreshToken] = provider.activeRefreshTokens();
    const [accessToken] = provider.activeTokens();
    assert.ok(refreshToken && accessToken);

    const token = await runCli(["token", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    const api = await runCli(["api", "/user", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    const status = await runCli(["status", "--hostname", provider.origin, "--json"], {
      configHome: config.home,
      env,
    });
    const files = await filesUnder(config.dir);
    const out = await runCli(["logout", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    assert.equal(out.code, 0, out.stderr);

    const shown: Record<string, string> = {
      "login stdout": login.stdout,
      "login stderr (but the URL line)": login.stderr.split("\n").filter((l) => l !== url).join(
        "\n",
      ),
      "success page": page.body,
      "token stderr": token.stderr,
      "api stdout": api.stdout,
      "api stderr": api.stderr,
      "status stdout": status.stdout,
      "status stderr": status.stderr,
      "logout stdout": out.stdout,
      "logout stderr": out.stderr,
    };
    for (const [path, text] of Object.entries(files)) {
      if (!path.endsWith("/tokens.json")) shown[path] = text; // the token store holds the tokens
    }
    for (const [where, text] of Object.entries(shown)) {
      for (
        const [name, secret] of Object.entries({ code, verifier, state, refreshToken, accessToken })
      ) {
        assert.ok(!text.includes(secret), `${name} appears in ${where}`);
      }
    }
    assert.equal(token.stdout, `${accessToken}\n`, "the access token only where asked for");
    assert.ok(
      Object.keys(files).some((p) => p.endsWith("/tokens.json")),
      "a token store was written",
    );
  } finally {
    await provider.close();
  }
});

Deno.test("two logins to one host at once: both finish, the store stays whole", async () => {
  const provider = startDevProvider({ autoApprove: true });
  await using config = await tempConfig();
  try {
    const first = new Cli(loginArgs(provider), { configHome: config.home, env });
    const second = new Cli(loginArgs(provider), { configHome: config.home, env });
    const urls = await Promise.all([first.authorizationUrl(), second.authorizationUrl()]);
    await Promise.all(urls.map((url) => actAsUser(url)));
    const results = await Promise.all([first.output(), second.output()]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/tokens.json`));
    const conf = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    assert.equal(conf.hosts[provider.origin].active, "octocat");
    const token = await runCli(["token", "--hostname", provider.origin], {
      configHome: config.home,
      env,
    });
    assert.equal(token.code, 0);
    assert.equal(token.stdout, `${stored.hosts[provider.origin].octocat.accessToken}\n`);
    assert.ok(provider.activeTokens().includes(token.stdout.trim()));
  } finally {
    await provider.close();
  }
});
