/**
 * The documented permission flags: deno.json, docs/permissions.md and the
 * README's commands say what scripts/permissions.ts says, every subcommand
 * works with exactly the `deno run` flags and --no-prompt, and a missing
 * permission is one clear line.
 */
import assert from "node:assert/strict";
import { startDevProvider } from "../../lib/dev/provider.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { permissionMessage } from "../../lib/core/permission_error.ts";
import {
  benchTaskFlags,
  CHECKOUT_LIB,
  compileFlags,
  compileTaskFlags,
  CONFIG_DIR_SHELL,
  CONTAINER_MARKERS,
  demoTaskFlags,
  GITHUB_HOSTS,
  INSTALL_SCRIPT,
  LAZY_IMPORTS_FLAG,
  LOOPBACK_NET,
  runFlags,
  RUNTIME_DIR_SHELL,
  SESSION_BUS_SHELL,
  setupTaskFlags,
  shimFlags,
  taskRuns,
  taskScriptFlags,
  testRunnerFlags,
  testTaskFlags,
} from "../../scripts/permissions.ts";
import { configDir } from "../../lib/store/paths.ts";
import { agentDir, defaultAgentSocket, shortAgentDir } from "../../lib/store/agent_paths.ts";
import {
  Cli,
  loginArgs,
  loginWith,
  ROOT,
  runCli,
  secretEnv,
  SOURCE_DIR,
  tempConfig,
  tempDir,
} from "../helpers.ts";

const config = await Deno.readTextFile(`${ROOT}/deno.json`);
const permissionsDoc = await Deno.readTextFile(`${ROOT}/docs/permissions.md`);
/** The README with its shell line continuations (`\` and a newline) joined. */
const readme = (await Deno.readTextFile(`${ROOT}/README.md`)).replace(/[ \t]*\\\n[ \t]*/g, " ");

function task(name: string): string {
  const match = new RegExp(`"${name}": \\{[^}]*"command": "((?:[^"\\\\]|\\\\.)*)"`).exec(config);
  assert.ok(match, `deno.json has a ${name} task`);
  return JSON.parse(`"${match[1]}"`);
}

Deno.test("deno.json tasks use the flags of scripts/permissions.ts", () => {
  assert.equal(
    task("demo"),
    `deno run ${demoTaskFlags().join(" ")} main.ts demo --dir .demo`,
  );
  assert.equal(task("test"), `deno run ${testRunnerFlags().join(" ")} scripts/test.ts`);
  for (const script of ["bench", "token_bench", "status_bench", "hostile"]) {
    assert.ok(
      task("bench").includes(`deno run ${benchTaskFlags().join(" ")} scripts/${script}.ts`),
    );
  }
  assert.equal(task("compile"), `deno run ${compileTaskFlags().join(" ")} scripts/compile.ts`);
  assert.equal(task("setup"), `deno run ${setupTaskFlags().join(" ")} scripts/setup.ts`);
  for (const name of ["demo", "test", "bench", "compile", "setup"]) {
    assert.doesNotMatch(task(name), /(^| )(-A|--allow-all)( |$)/, name);
  }
});

Deno.test("every deno run of every deno.json task has the flags of scripts/permissions.ts for its script", () => {
  const expected = taskScriptFlags();
  const runs = taskRuns(config);
  for (const { flags, script } of runs) {
    assert.ok(script in expected, `a task runs ${script} with flags of its own`);
    assert.equal(JSON.parse(`"${flags}"`), expected[script].join(" "), script);
  }
  // bench runs four scripts, setup and setup-bench one each, check two.
  assert.equal(runs.length, 11);
  assert.deepEqual([...new Set(runs.map((r) => r.script))].sort(), Object.keys(expected).sort());
});

Deno.test("docs/permissions.md documents the same flags", () => {
  const documented = [
    runFlags(CONFIG_DIR_SHELL, GITHUB_HOSTS, {
      runtimeDir: RUNTIME_DIR_SHELL,
      bus: SESSION_BUS_SHELL,
    })
      .join(" "),
    runFlags(CONFIG_DIR_SHELL, GITHUB_HOSTS, {
      runtimeDir: RUNTIME_DIR_SHELL,
      bus: SESSION_BUS_SHELL,
      source: CHECKOUT_LIB,
    }).join(" "),
    compileFlags().join(" "),
    demoTaskFlags().join(" "),
    testTaskFlags().join(" "),
    testRunnerFlags().join(" "),
    compileTaskFlags().join(" "),
    setupTaskFlags().join(" "),
  ];
  for (const flags of documented) {
    assert.ok(permissionsDoc.includes(flags), `docs/permissions.md lacks: ${flags}`);
  }
});

Deno.test("the README's install is the installer, and its quick start uses the documented flags", () => {
  assert.match(
    readme,
    /\n## Install\n[^#]*```sh\ncurl -fsSL (https:\S+)\/install\.sh \| sh -s -- --from \1\n/,
  );
  assert.doesNotMatch(readme, /^ *deno install/m, "the README's one install is the installer");
  const checkout = `deno run ${
    runFlags(CONFIG_DIR_SHELL, GITHUB_HOSTS, {
      runtimeDir: RUNTIME_DIR_SHELL,
      bus: SESSION_BUS_SHELL,
      source: CHECKOUT_LIB,
    }).join(" ")
  } main.ts "$@"`;
  assert.ok(readme.includes(checkout), `README.md lacks: ${checkout}`);
});

/** The installed command's script as install.sh writes it, from its `#!` on. */
const installScript = await Deno.readTextFile(`${ROOT}/${INSTALL_SCRIPT}`);

Deno.test("install.sh's command starts Deno with the flags of scripts/permissions.ts, each one word", () => {
  const joined = installScript.replace(/[ \t]*\\\n[ \t]*/g, " ");
  const flags = shimFlags().map((flag) => `"${flag}"`).join(" ");
  assert.ok(joined.includes(` ${flags} "$main" "$@"\n`), `install.sh lacks: ${flags}`);
  assert.doesNotMatch(installScript, /(^|\s)(-A|--allow-all)(\s|$)/);
});

/** The flags install.sh's command gives a fake Deno in `env`, one a line. */
async function shimFlagsIn(env: Record<string, string>): Promise<string[]> {
  const dir = await tempDir("shim");
  try {
    // The command's run-time part, after the values install.sh fills in; Deno prints its arguments.
    const body = /cat <<'SHIM'\n([\s\S]*?)\nSHIM\n/.exec(installScript);
    assert.ok(body, "install.sh writes the command's run-time part unexpanded");
    await Deno.writeTextFile(`${dir}/deno`, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n", { mode: 0o755 });
    await Deno.chmod(`${dir}/deno`, 0o755);
    const values =
      `deno='${dir}/deno' main='https://example.com/main.ts' lock=/l origin=example.com` +
      ` hosts='${GITHUB_HOSTS.join(",")}' reinstall=x`;
    const out = await new Deno.Command("bash", {
      args: ["-c", `${values}\n${body[1]}`],
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
      clearEnv: true,
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const args = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
    assert.deepEqual(args.slice(0, 6), [
      "run",
      "--no-config",
      "--lock=/l",
      "--frozen",
      "--allow-import=example.com",
      LAZY_IMPORTS_FLAG,
    ]);
    assert.equal(args.at(-1), "https://example.com/main.ts");
    return args.slice(5, -1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("install.sh's command grants what loopauth uses in the environment of each run: the config, runtime and short directories, the session bus", async () => {
  const uid = Number(
    new TextDecoder().decode(
      (await new Deno.Command("bash", { args: ["-c", "id -u"] }).output()).stdout,
    ).trim(),
  );
  const home = "/home/me";
  const cases: Record<string, string>[] = [
    { HOME: home },
    { HOME: home, XDG_RUNTIME_DIR: "/run/user/1000", XDG_CONFIG_HOME: "/elsewhere" },
    { HOME: home, XDG_RUNTIME_DIR: "relative", TMPDIR: "/var/tmp/" },
  ];
  for (const env of cases) {
    const read = (name: string) => env[name];
    const config = configDir({ env: read, os: "linux" });
    const runtime = env.XDG_RUNTIME_DIR?.startsWith("/") ? env.XDG_RUNTIME_DIR : undefined;
    const expected = runFlags(config, GITHUB_HOSTS, {
      runtimeDir: runtime ? `${runtime}/loopauth` : config,
      shortDir: shortAgentDir(uid, { env: read }),
      bus: runtime ? `${runtime}/bus` : `${config}/bus`,
    });
    const flags = await shimFlagsIn(env);
    assert.deepEqual(flags, expected, JSON.stringify(env));
    // The agent loopauth would start there may listen and keep its directory.
    const socket = defaultAgentSocket({ env: read, configDir: config, uid });
    const granted = grants(flags);
    assert.ok(granted.get("--allow-net")!.includes(`unix:${socket}`), socket);
    const dir = agentDir(socket);
    assert.ok(
      granted.get("--allow-write")!.some((path) => dir === path || dir.startsWith(`${path}/`)),
      socket,
    );
  }
});

/** Every documented copy of the `deno run` / `deno install -g` flags (line continuations joined). */
const DOCUMENTED_FLAGS = /--unstable-lazy-dynamic-imports(?: --allow-[a-z]+(?:=\S+)?)+/g;

/** A documented copy of the flags as bash expands it in `env` (and nothing else). */
async function expandInBash(flags: string, env: Record<string, string>): Promise<string[]> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `printf '%s\\n' ${flags}`],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trimEnd().split("\n");
}

/** The entries of each `--allow-…=` list, by flag. */
function grants(flags: string[]): Map<string, string[]> {
  return new Map(
    flags.filter((f) => f.includes("=")).map((f) => {
      const at = f.indexOf("=");
      return [f.slice(0, at), f.slice(at + 1).split(",")];
    }),
  );
}

Deno.test("the documented commands, run with XDG_RUNTIME_DIR unset, grant no /loopauth, /bus or empty path; set, its agent socket and bus", async () => {
  const expected = [
    runFlags(CONFIG_DIR_SHELL, GITHUB_HOSTS, {
      runtimeDir: RUNTIME_DIR_SHELL,
      bus: SESSION_BUS_SHELL,
    }),
    runFlags(CONFIG_DIR_SHELL, GITHUB_HOSTS, {
      runtimeDir: RUNTIME_DIR_SHELL,
      bus: SESSION_BUS_SHELL,
      source: CHECKOUT_LIB,
    }),
  ].map((flags) => flags.join(" "));
  const home = "/home/me";
  const config = `${home}/.config/loopauth`;
  let copies = 0;
  for (const doc of ["README.md", "docs/install.md", "docs/permissions.md"]) {
    const text = (await Deno.readTextFile(`${ROOT}/${doc}`)).replace(/[ \t]*\\\n[ \t]*/g, " ");
    for (const [copy] of text.matchAll(DOCUMENTED_FLAGS)) {
      copies++;
      assert.ok(expected.includes(copy), `${doc} has flags of its own: ${copy}`);
      // Unset (a console login, cron, a container): every path is a real one, and
      // none is outside the config directory but the container markers and lib.
      const unset = grants(await expandInBash(copy, { HOME: home }));
      for (const [flag, entries] of unset) {
        if (!["--allow-net", "--allow-read", "--allow-write"].includes(flag)) continue;
        for (const entry of entries) {
          const path = entry.replace(/^unix:/, "");
          assert.notEqual(path, "", `${doc}: ${flag} has an empty entry`);
          assert.doesNotMatch(path, /^\/(loopauth|bus)(\/|$)/, `${doc}: ${flag} grants ${path}`);
          if (!path.startsWith("/")) {
            assert.ok([...LOOPBACK_NET, ...GITHUB_HOSTS, CHECKOUT_LIB].includes(path), path);
            continue;
          }
          assert.ok(
            path === config || path.startsWith(`${config}/`) || CONTAINER_MARKERS.includes(path),
            `${doc}: ${flag} grants ${path} outside ${config}`,
          );
        }
      }
      // Set: the agent's socket and directory there, and the session bus.
      const run = "/run/user/1000";
      const set = grants(await expandInBash(copy, { HOME: home, XDG_RUNTIME_DIR: run }));
      for (const entry of [`unix:${run}/loopauth/agent.sock`, `unix:${run}/bus`]) {
        assert.ok(set.get("--allow-net")!.includes(entry), `${doc}: --allow-net lacks ${entry}`);
      }
      for (const flag of ["--allow-read", "--allow-write"]) {
        for (const path of [`${run}/loopauth`, `${run}/bus`]) {
          assert.ok(set.get(flag)!.includes(path), `${doc}: ${flag} lacks ${path}`);
        }
      }
    }
  }
  assert.equal(copies, 6, "README (1), docs/install.md (3), docs/permissions.md (2)");
});

Deno.test("every subcommand works with exactly the documented deno run flags", async () => {
  await using home = await tempConfig();
  const flags = ["--no-prompt", ...runFlags(home.dir, GITHUB_HOSTS, { source: SOURCE_DIR })];
  const options = { configHome: home.home, flags };
  const provider = startDevProvider({ autoApprove: true });
  try {
    const login = await loginWith(provider, options);
    assert.equal(login.code, 0, login.stderr);
    const hostname = ["--hostname", provider.origin];
    const token = await runCli(["token", ...hostname], options);
    assert.equal(token.code, 0, token.stderr);
    assert.deepEqual(provider.activeTokens(), [token.stdout.trim()]);
    const api = await runCli(["api", "/user", ...hostname], options);
    assert.equal(api.code, 0, api.stderr);
    assert.equal(JSON.parse(api.stdout).login, "octocat");
    const logout = await runCli(["logout", ...hostname], options);
    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual(provider.activeTokens(), []);
  } finally {
    await provider.close();
  }

  const demo = await runCli(["demo", "--no-browser"], options);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /"login": "octocat"/);
  assert.deepEqual(
    [...Deno.readDirSync(home.dir)].map((e) => e.name).filter((n) => n.startsWith("demo-")),
    [],
    "the demo removed its temporary directory",
  );

  const server = new Cli(["dev-server", "--auto-approve"], options);
  try {
    await server.waitForLine(/^Press Ctrl-C to stop$/);
    const origin = /--hostname (\S+)/.exec(server.stderrLines.join("\n"))![1];
    const answer = await fetch(`${origin}/login/oauth/authorize?client_id=nobody`);
    await answer.body?.cancel();
    assert.ok(answer.status >= 300 && answer.status < 500, `dev-server answered ${answer.status}`);
  } finally {
    server.child.kill();
    await server.output();
  }

  for (const args of [["--help"], ["help", "api"], ["--version"]]) {
    const out = await runCli(args, options);
    assert.equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
    assert.equal(out.stderr, "");
  }
});

Deno.test("a missing permission is one line naming the flag, exit 12", async () => {
  await using home = await tempConfig();
  const all = runFlags(home.dir, [], { source: SOURCE_DIR });
  const without = (prefix: string) => ["--no-prompt", ...all.filter((f) => !f.startsWith(prefix))];
  const provider = startDevProvider({ autoApprove: true });
  try {
    const cases: [string, string[], RegExp][] = [
      [
        "--allow-net",
        loginArgs(provider),
        /^Error: Deno denied net access to "127\.0\.0\.1:\d+": run with --allow-net=127\.0\.0\.1$/,
      ],
      [
        "--allow-env",
        ["token"],
        /^Error: Deno denied env access to "\w+": run with --allow-env=\w+$/,
      ],
      [
        "--allow-write",
        loginArgs(provider),
        /^Error: .*--allow-write.*$/,
      ],
    ];
    for (const [flag, args, message] of cases) {
      // A login without --allow-write ends before the browser opens (the directory is checked).
      const { code, stderr } = await runCli(args, {
        configHome: home.home,
        flags: without(flag),
        env: secretEnv(provider),
      });
      if (flag === "--allow-write") assert.doesNotMatch(stderr, /\/login\/oauth\/authorize/);
      const last = stderr.trimEnd().split("\n").at(-1)!;
      assert.match(last, message, `without ${flag}: ${stderr}`);
      assert.ok(
        code === EXIT_CODES.permission || code === EXIT_CODES.storage,
        `without ${flag}: exit ${code}`,
      );
      assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    }
  } finally {
    await provider.close();
  }
});

Deno.test("in a checkout, lazy loading without read access to lib/ is one line, exit 12", async () => {
  await using home = await tempConfig();
  // The checkout's flags (--unstable-lazy-dynamic-imports) with lib/ left out of --allow-read.
  const flags = ["--no-prompt", ...runFlags(home.dir, [], { source: CHECKOUT_LIB })].map((f) =>
    f.startsWith("--allow-read=") ? f.replace(/,lib$/, "") : f
  );
  assert.ok(flags.includes("--unstable-lazy-dynamic-imports"));
  const out = await runCli(["token"], { configHome: home.home, flags });
  assert.equal(out.code, EXIT_CODES.permission, out.stderr);
  assert.match(
    out.stderr.trimEnd(),
    /^Error: Deno may not load \S+\/lib\/cli\/token\.ts: add loopauth's lib directory to --allow-read [^\n]*$/,
  );
  // --help needs no subcommand's module: it works all the same.
  assert.equal((await runCli(["--help"], { configHome: home.home, flags })).code, 0);
});

Deno.test("permission messages name the narrowest flag, or what a binary's user can do", () => {
  const denied = (what: string, flag: string) =>
    new Deno.errors.NotCapable(`Requires ${what}, run again with the ${flag} flag`);
  assert.equal(
    permissionMessage(denied('net access to "ghe.example.com:443"', "--allow-net"), {
      standalone: false,
    }),
    'Deno denied net access to "ghe.example.com:443": run with --allow-net=ghe.example.com',
  );
  assert.equal(
    permissionMessage(denied('env access to "BROWSER"', "--allow-env"), { standalone: false }),
    'Deno denied env access to "BROWSER": run with --allow-env=BROWSER',
  );
  assert.equal(
    permissionMessage(denied('read access to "/home/me/.config/loopauth"', "--allow-read"), {
      standalone: false,
    }),
    'Deno denied read access to "/home/me/.config/loopauth": run with --allow-read=/home/me/.config/loopauth',
  );
  assert.equal(
    permissionMessage(new Deno.errors.NotCapable("something else"), { standalone: false }),
    "Deno denied an operation: run with the permission flags in docs/permissions.md",
  );
  // A compiled binary's flags are fixed: it reaches every host but the wildcard addresses.
  assert.equal(
    permissionMessage(denied('net access to "0.0.0.0:8080"', "--allow-net"), {
      standalone: true,
    }),
    'This loopauth binary has no net access to "0.0.0.0:8080": it never listens on or connects to 0.0.0.0 or [::], so name 127.0.0.1 or a host instead',
  );
  assert.equal(
    permissionMessage(denied('env access to "FOO"', "--allow-env"), { standalone: true }),
    'This loopauth binary has no env access to "FOO": use deno run with the flags in docs/permissions.md',
  );
  // The command install.sh writes takes no Deno flags: a host is added by installing again.
  const reinstall =
    "curl -fsSL https://example.com/install.sh | sh -s -- --from https://example.com";
  assert.equal(
    permissionMessage(denied('net access to "ghe.example.com:443"', "--allow-net"), {
      standalone: false,
      reinstall,
    }),
    `This installed loopauth may not reach ghe.example.com: install it again with ${reinstall} --host ghe.example.com`,
  );
  assert.equal(
    permissionMessage(denied('env access to "FOO"', "--allow-env"), {
      standalone: false,
      reinstall,
    }),
    'This installed loopauth has no env access to "FOO": run loopauth with deno run and the flags in docs/permissions.md',
  );
  // Outside a compiled binary, the default comes from Deno.build.standalone.
  assert.equal(Deno.build.standalone, false);
  assert.match(
    permissionMessage(denied('env access to "FOO"', "--allow-env")),
    /^Deno denied env access to "FOO": run with --allow-env=FOO$/,
  );
});
