/**
 * Debian's gh, unchanged, against `loopauth dev-server --tls --port 443`:
 * gh takes 127.0.0.1 for a GitHub Enterprise Server (REST at /api/v3/,
 * GraphQL at /api/graphql, https on 443 only). Its device flow (`gh auth
 * login --web`), `--with-token` with a token loopauth got, `gh auth status`
 * and `gh api user`. gh's config is a directory of the test (GH_CONFIG_DIR),
 * never the user's. Skipped, saying why, where port 443 cannot be bound.
 */
import assert from "node:assert/strict";
import { approveDeviceCode } from "../../lib/dev/provider.ts";
import { actAsUser } from "../../lib/dev/user.ts";
import { Cli, runCli, secretEnv, tempConfig } from "../helpers.ts";
import { startDevServer } from "../helpers/dev_server.ts";

/** gh's own OAuth app (cli/cli internal/authflow/flow.go), which gh always uses. */
const GH_CLIENT_ID = "178c6fc778ccc68e1d6a";
const GH_CLIENT_SECRET = "34ddeff2b558a23d38fba8a6de74f086ede1cc0b";

/** Why port 443 of 127.0.0.1 cannot be bound here, or `undefined` when it can. */
function cannotBind443(): string | undefined {
  try {
    Deno.listen({ hostname: "127.0.0.1", port: 443 }).close();
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) {
      return "binding 127.0.0.1:443 needs root (or CAP_NET_BIND_SERVICE)";
    }
    if (error instanceof Deno.errors.AddrInUse) return "127.0.0.1:443 is in use";
    return `127.0.0.1:443 cannot be bound: ${error}`;
  }
}

const skip = cannotBind443();
if (skip) {
  console.error(`dev_gh_test: the gh tests are skipped: ${skip} (gh reaches a GHES only on 443)`);
}

/** A running gh: its output so far, a wait for a line of stderr, and its end. */
interface Gh {
  /** Waits (at most 30 s) until stderr matches `pattern`. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts gh with `env` (its own config directory, the dev-server's CA). */
function startGh(args: string[], env: Record<string, string>, stdin?: string): Gh {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("gh", {
      args,
      env,
      clearEnv: true,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("gh is not installed: run deno task setup (Debian: apt install gh)");
    }
    throw error;
  }
  let stderr = "";
  const wakers: (() => void)[] = [];
  const stdout = new Response(child.stdout).text();
  const errors = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      wakers.splice(0).forEach((wake) => wake());
    }
  })();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(stdin)).then(() => writer.close());
  }
  const done = (async () => {
    const [status, out] = await Promise.all([child.status, stdout, errors]);
    wakers.splice(0).forEach((wake) => wake());
    return { code: status.code, stdout: out, stderr };
  })();
  let exited = false;
  done.then(() => exited = true);
  return {
    done,
    async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      const deadline = Date.now() + 30_000;
      while (true) {
        const match = pattern.exec(stderr);
        if (match) return match;
        if (exited) throw new Error(`gh exited without ${pattern}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`gh printed no ${pattern} in 30 s:\n${stderr}`);
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, 200);
          wakers.push(() => {
            clearTimeout(timer);
            wake();
          });
        });
      }
    },
  };
}

/** Runs gh to its end. */
function gh(args: string[], env: Record<string, string>, stdin?: string) {
  return startGh(args, env, stdin).done;
}

Deno.test({
  name:
    "gh: device login (--web), --with-token, auth status and api user against dev-server --tls --port 443",
  ignore: skip !== undefined,
  async fn() {
    await using home = await tempConfig();
    const server = await startDevServer([
      "--tls",
      "--port",
      "443",
      "--client-id",
      GH_CLIENT_ID,
      "--client-secret",
      GH_CLIENT_SECRET,
      "--device-interval",
      "1",
    ], home.home);
    const { info } = server;
    const caFile = info.caFile!;
    try {
      assert.equal(info.origin, "https://127.0.0.1");
      assert.equal(info.apiUrl, "https://127.0.0.1/api/v3");
      assert.equal(info.clientId, GH_CLIENT_ID);
      assert.ok(caFile.startsWith(`${home.dir}/`), caFile);
      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
      const ghEnv = (name: string) => ({
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: `${home.home}/${name}`,
        GH_CONFIG_DIR: `${home.home}/${name}/gh`,
        XDG_CONFIG_HOME: `${home.home}/${name}/config`,
        XDG_STATE_HOME: `${home.home}/${name}/state`,
        XDG_CACHE_HOME: `${home.home}/${name}/cache`,
        XDG_DATA_HOME: `${home.home}/${name}/data`,
        GIT_CONFIG_GLOBAL: `${home.home}/${name}/gitconfig`,
        GIT_CONFIG_NOSYSTEM: "1",
        SSL_CERT_FILE: caFile,
        GH_NO_UPDATE_NOTIFIER: "1",
        GH_PROMPT_DISABLED: "1",
        NO_COLOR: "1",
      });

      // gh auth login --web: its device flow; the user enters the code gh shows.
      const web = ghEnv("web");
      const login = startGh(
        ["auth", "login", "--hostname", "127.0.0.1", "--web", "--git-protocol", "https"],
        web,
      );
      const shown = await login.waitFor(/one-time code: ([A-Z]{4}-[A-Z]{4})/);
      const approved = await approveDeviceCode(info.origin, shown[1], { client });
      assert.equal(approved.status, 200, approved.body);
      const loggedIn = await login.done;
      assert.equal(loggedIn.code, 0, loggedIn.stderr);
      assert.match(loggedIn.stderr, /Logged in as octocat/);

      const status = await gh(["auth", "status", "--hostname", "127.0.0.1"], web);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stderr, /Logged in to 127\.0\.0\.1 as octocat/);
      assert.match(status.stderr, /Token scopes: repo, read:org, gist/);

      const user = await gh(["api", "user", "--hostname", "127.0.0.1"], web);
      assert.equal(user.code, 0, user.stderr);
      assert.equal(JSON.parse(user.stdout).login, "octocat");

      // A token loopauth got (over https, trusting the CA through DENO_CERT), given to gh.
      await using loopauth = await tempConfig();
      const cliOptions = {
        configHome: loopauth.home,
        env: secretEnv({ clientSecret: GH_CLIENT_SECRET }, { DENO_CERT: caFile }),
      };
      const hostname = ["--hostname", info.origin];
      const cli = new Cli([
        "login",
        ...hostname,
        "--client-id",
        GH_CLIENT_ID,
        "--scopes",
        "repo read:org",
        "--no-browser",
        "--web",
      ], cliOptions);
      await actAsUser(await cli.authorizationUrl(), { client });
      const loopauthLogin = await cli.output();
      assert.equal(loopauthLogin.code, 0, loopauthLogin.stderr);
      const token = await runCli(["token", ...hostname], cliOptions);
      assert.equal(token.code, 0, token.stderr);
      const withToken = ghEnv("with-token");
      const given = await gh(
        ["auth", "login", "--hostname", "127.0.0.1", "--with-token"],
        withToken,
        token.stdout,
      );
      assert.equal(given.code, 0, given.stderr);
      const status2 = await gh(["auth", "status", "--hostname", "127.0.0.1"], withToken);
      assert.equal(status2.code, 0, status2.stderr);
      assert.match(status2.stderr, /Logged in to 127\.0\.0\.1 as octocat/);
      assert.match(status2.stderr, /Token scopes: repo, read:org/);
      const user2 = await gh(
        ["api", "user", "--hostname", "127.0.0.1", "--jq", ".login"],
        withToken,
      );
      assert.equal(user2.stdout, "octocat\n", user2.stderr);

      // A token the server does not know: gh reads the JSON 401.
      const bogus = await gh(
        ["auth", "login", "--hostname", "127.0.0.1", "--with-token"],
        ghEnv("bogus"),
        "gho_000000000000000000000000000000000000\n",
      );
      assert.notEqual(bogus.code, 0);
      assert.match(bogus.stderr, /HTTP 401: Bad credentials/);
      client.close();
    } finally {
      const { code, stderr } = await server.stop("SIGTERM");
      assert.equal(code, 0, stderr);
    }
    // SIGTERM stopped it as Ctrl-C does: its CA file and directory are gone.
    await assert.rejects(Deno.stat(caFile), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(home.dir), Deno.errors.NotFound, "made for it, removed with it");
  },
});
