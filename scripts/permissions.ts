/**
 * The one list of Deno permission flags for each way of running loopauth.
 * deno.json tasks, docs/permissions.md, the README's install and quick start,
 * scripts/compile.ts and the tests all come from here
 * (tests/system/permissions_test.ts checks that deno.json and the docs match).
 *
 * Run it to write the flags of every `deno run` in deno.json's tasks from
 * {@linkcode taskScriptFlags} (the docs' copies are checked, and the test's
 * message prints the line to paste):
 * deno run --allow-read=deno.json --allow-write=deno.json scripts/permissions.ts
 * @module
 */

export { ENV_VARS } from "../lib/core/env_vars.ts";
import { ENV_VARS } from "../lib/core/env_vars.ts";

/** Files whose presence says "a container" (read only to choose the login flow). */
export const CONTAINER_MARKERS: readonly string[] = [
  "/.dockerenv",
  "/run/.containerenv",
  "/proc/1/cgroup",
];

/**
 * The loopback addresses the callback server may listen on: 127.0.0.1, and
 * `[::1]` for a redirect URI on `[::1]` or `localhost` (`--redirect-uri`).
 */
export const LOOPBACK_NET: readonly string[] = ["127.0.0.1", "[::1]"];

/** The hosts of github.com's OAuth endpoints and REST API. */
export const GITHUB_HOSTS: readonly string[] = ["github.com", "api.github.com"];

/** The config directory as the docs write it for a POSIX shell. */
export const CONFIG_DIR_SHELL = "$HOME/.config/loopauth";

/**
 * The agent's directory (`$XDG_RUNTIME_DIR/loopauth`) as the docs write it for
 * a POSIX shell. With `XDG_RUNTIME_DIR` unset or empty (a console or cron
 * session, a container) loopauth uses the config directory, and so does this:
 * a bare `$XDG_RUNTIME_DIR/loopauth` would grant `/loopauth`.
 */
export const RUNTIME_DIR_SHELL = "${XDG_RUNTIME_DIR:-$HOME/.config}/loopauth";

/** Options of {@linkcode runFlags}. */
export interface RunFlagsOptions {
  /**
   * The agent's directory under `$XDG_RUNTIME_DIR` (docs: {@linkcode RUNTIME_DIR_SHELL}).
   * Without it only the agent in the config directory (the fallback) is reachable.
   */
  runtimeDir?: string;
  /**
   * The session bus socket (README: {@linkcode SESSION_BUS_SHELL}), to read the
   * keyring over D-Bus rather than by starting `secret-tool`.
   */
  bus?: string;
  /**
   * The agent's short directory (`$TMPDIR/loopauth-UID` or `/tmp/loopauth-UID`),
   * where it listens when its usual socket path is too long for a Unix socket.
   */
  shortDir?: string;
  /**
   * A checkout's `lib/` directory ({@linkcode CHECKOUT_LIB}), for `deno run
   * main.ts` there: a module loaded when used ({@linkcode LAZY_IMPORTS_FLAG})
   * is read then, and a local one needs read access.
   */
  source?: string;
}

/**
 * Deno's flag to load a statically known dynamic import when it runs rather
 * than at start-up. Without it Deno reads every module any subcommand could
 * load before `main.ts` starts: from JSR or a URL that made `token` as slow
 * as `gh auth token` (docs/performance.md, "What made the difference").
 * A module loaded that late needs import access (JSR's is granted by
 * default; a URL's host is in `--allow-import` anyway) or, from a checkout,
 * read access ({@linkcode RunFlagsOptions.source}).
 */
export const LAZY_IMPORTS_FLAG = "--unstable-lazy-dynamic-imports";

/** The checkout's `lib/` as its documented `deno run` flags write it (run from the checkout). */
export const CHECKOUT_LIB = "lib";

/**
 * The sockets the loopauth agent may listen on: `agent/agent.sock` in the
 * config directory and, when given, `agent.sock` in the runtime directory.
 * Deno scopes a Unix socket by its exact path (`--allow-net=unix:PATH`).
 */
export function agentSockets(configDir: string, options: RunFlagsOptions = {}): string[] {
  return [
    `${configDir}/agent/agent.sock`,
    ...(options.runtimeDir ? [`${options.runtimeDir}/agent.sock`] : []),
    ...(options.shortDir ? [`${options.shortDir}/agent.sock`] : []),
  ];
}

/**
 * The session bus socket as README writes it for a POSIX shell: where
 * systemd puts it (`DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus`).
 * With `XDG_RUNTIME_DIR` unset or empty there is no such bus: the fallback is a
 * path inside the config directory (granted anyway) rather than `/bus`.
 */
export const SESSION_BUS_SHELL = "${XDG_RUNTIME_DIR:-$HOME/.config/loopauth}/bus";

/** The variable that names the session bus (read only with the bus's flags). */
export const SESSION_BUS_VAR = "DBUS_SESSION_BUS_ADDRESS";

/**
 * `deno run` / `deno install -g` flags: every subcommand works with exactly
 * these (the demo keeps its temporary files inside the config directory).
 *
 * - net: the callback server and built-in provider on 127.0.0.1; github.com for
 *   the OAuth endpoints, api.github.com for the API (add a GHES host to `hosts`);
 *   the agent's sockets ({@linkcode agentSockets}).
 * - env: only {@linkcode ENV_VARS}.
 * - read/write: only the config directory (and the agent's runtime directory).
 * - sys: only `uid`, to refuse a config directory that belongs to another user.
 * - run: the browser opener; `$BROWSER` may name any program (and on Windows
 *   `cmd`), so it cannot be a fixed list.
 * - `bus`: the session bus socket, to read the keyring over D-Bus rather than
 *   by starting `secret-tool` (net `unix:` and read/write access to that one
 *   socket, and {@linkcode SESSION_BUS_VAR}); without it, `secret-tool` reads.
 * - {@linkcode LAZY_IMPORTS_FLAG}: each subcommand loads only its own modules;
 *   `source`: in a checkout, read access to `lib/` for them.
 */
export function runFlags(
  configDir: string,
  hosts: readonly string[] = GITHUB_HOSTS,
  options: RunFlagsOptions = {},
): string[] {
  const sockets = agentSockets(configDir, options).map((path) => `unix:${path}`);
  const dirs = [
    configDir,
    ...[options.runtimeDir, options.shortDir].filter((d) => d !== undefined),
  ];
  const bus = options.bus === undefined ? [] : [options.bus];
  const source = options.source === undefined ? [] : [options.source];
  return [
    LAZY_IMPORTS_FLAG,
    `--allow-net=${
      [...LOOPBACK_NET, ...hosts, ...sockets, ...bus.map((s) => `unix:${s}`)].join(",")
    }`,
    `--allow-env=${[...ENV_VARS, ...(bus.length ? [SESSION_BUS_VAR] : [])].join(",")}`,
    `--allow-read=${[...dirs, ...bus, ...CONTAINER_MARKERS, ...source].join(",")}`,
    `--allow-write=${[...dirs, ...bus].join(",")}`,
    "--allow-sys=uid",
    "--allow-run",
  ];
}

/**
 * The wildcard addresses a compiled binary may neither listen on nor
 * connect to: Deno 2.9 has one net permission for both, so `--deny-net`
 * of these is how a binary that reaches any host still cannot serve the
 * network (`Deno.serve` without a `hostname` means 0.0.0.0), and cannot be
 * sent to "this machine" under a name other than a loopback address.
 */
export const WILDCARD_ADDRESSES: readonly string[] = ["0.0.0.0", "[::]"];

/**
 * Flags baked into the compiled binary. The config directory is only known
 * at run time (HOME, XDG_CONFIG_HOME, APPDATA), and a binary's user cannot
 * add flags, so read and write cannot be scoped to a path, nor net to the
 * hosts a user will name (`--hostname`, `--issuer`, `LOOPAUTH_HOST`, the
 * stored hosts, an issuer's endpoints, an MCP server): net is every host
 * but {@linkcode WILDCARD_ADDRESSES}. loopauth itself listens only on
 * 127.0.0.1 (its callback server and built-in provider name it) and on its
 * agent's Unix socket; docs/security.md says what this trades.
 */
export function compileFlags(): string[] {
  return [
    "--allow-net",
    `--deny-net=${WILDCARD_ADDRESSES.join(",")}`,
    `--allow-env=${ENV_VARS.join(",")}`,
    "--allow-read",
    "--allow-write",
    "--allow-sys=uid",
    "--allow-run",
  ];
}

/** `deno task demo`: only loopback, and its files in `.demo/` of the checkout. */
export const DEMO_DIR = ".demo";

/** The flags of `deno task demo`. */
export function demoTaskFlags(): string[] {
  return [
    "--allow-net=127.0.0.1",
    `--allow-env=${ENV_VARS.join(",")}`,
    `--allow-read=${[DEMO_DIR, ...CONTAINER_MARKERS].join(",")}`,
    `--allow-write=${DEMO_DIR}`,
    "--allow-sys=uid",
    "--allow-run",
  ];
}

/**
 * The variable through which `deno task test` (scripts/test.ts) tells the
 * tests their private root: every temporary file, config directory and
 * socket of a test lives under it (tests/helpers/env.ts TEST_TMP_DIR).
 */
export const TEST_ROOT_VAR = "LOOPAUTH_TEST_ROOT";
/** The tests' root as the docs write it for a POSIX shell. */
export const TEST_ROOT_SHELL = `$${TEST_ROOT_VAR}`;
/**
 * Where the tests' files go when they run without scripts/test.ts (the
 * benchmarks): inside the checkout, so one flag works on every OS.
 */
export const TEST_TMP = ".test-tmp";
/**
 * The only variables scripts/test.ts passes on to `deno test` (besides
 * {@linkcode TEST_ROOT_VAR} and NO_COLOR): no session bus, agent, display,
 * browser, proxy or token of the developer's session reaches a test.
 */
export const TEST_ENV_VARS: readonly string[] = [
  "HOME",
  "PATH",
  "DENO_DIR",
  "XDG_CACHE_HOME", // where Deno's cache is when DENO_DIR is unset
  "DENORT_BIN",
  "DENO_NO_UPDATE_CHECK",
  "CI",
  // Windows: what its programs need to start and find their temporary and profile directories.
  "SystemRoot",
  "PATHEXT",
  "TEMP",
  "TMP",
  "USERPROFILE",
  "LOCALAPPDATA",
];
/**
 * Where tests' child processes put programs the tests then run: `deno compile`
 * and `deno install` write there, the test process only runs them (Deno denies
 * writing to a path that --allow-run names, and to its parents).
 */
export const TEST_BIN = ".test-bin";
/**
 * The programs the tests run besides Deno itself: Node (the browser driver:
 * playwright-core wants --allow-all under Deno), tmux (a real terminal), bash
 * (completion scripts), ps (memory of the login process; Deno reads /proc
 * only with --allow-all), git, gh and openssl (the dev-server's clients and
 * certificate), kubectl (an exec credential plugin's client), and the
 * binaries in {@linkcode TEST_BIN}.
 */
export const TEST_PROGRAMS: readonly string[] = [
  "node",
  "tmux",
  "bash",
  "ps",
  "dbus-daemon", // a private session bus for the test keyring
  "gnome-keyring-daemon", // a real Secret Service
  "secret-tool", // to look into that keyring from outside loopauth
  "git", // git credential fill against the helper; clone and push to the dev-server
  "gh", // GitHub's CLI against the dev-server
  "openssl", // the dev-server's https certificate (tests of startDevProvider({ tls: true }))
  "socat", // a relay in front of the agent's socket (as ssh -R is)
  "setpriv", // a second user (uid 65534) that must not reach the agent
  "kubectl", // runs token --exec-credential as its exec plugin against a 127.0.0.1 server
  `${TEST_BIN}/loopauth`,
  `${TEST_BIN}/loopauth.exe`,
  `${TEST_BIN}/install/bin/loopauth`,
  `${TEST_BIN}/install/bin/loopauth.cmd`,
];

/** Shell text that prints this Deno's path (deno task runs it). */
export const DENO_PATH = "$(deno eval 'console.log(Deno.execPath())')";

/**
 * The flags of `deno test` in `deno task test` (and, with {@linkcode TEST_TMP}
 * for the root, of `deno task bench`): the tests spawn the CLI with
 * {@linkcode runFlags}; they themselves need loopback, a few variables, the
 * checkout (served to `deno run <URL>`), their private root (scripts/test.ts
 * makes it), and to run Deno and the programs in {@linkcode TEST_PROGRAMS}.
 */
export function testTaskFlags(root: string = TEST_ROOT_SHELL, deno: string = DENO_PATH): string[] {
  return [
    // localhost: a test plays the browser at a `--redirect-uri http://localhost:PORT/…`.
    `--allow-net=${[...LOOPBACK_NET, "localhost"].join(",")}`,
    `--allow-env=HOME,PATH,DENO_DIR,DENORT_BIN,SystemRoot,${TEST_ROOT_VAR}`,
    `--allow-read=.,${root}`,
    `--allow-write=${root}`,
    `--allow-run=${[deno, ...TEST_PROGRAMS].join(",")}`,
  ];
}

/**
 * The flags of scripts/test.ts itself (`deno task test`): it makes the
 * tests' root under /tmp (on Windows in {@linkcode TEST_TMP}), passes on
 * {@linkcode TEST_ENV_VARS} and runs Deno.
 */
export function testRunnerFlags(): string[] {
  return [
    `--allow-write=/tmp,${TEST_TMP}`,
    `--allow-env=${TEST_ENV_VARS.join(",")}`,
    `--allow-run=${DENO_PATH}`,
  ];
}

/**
 * The flags of the whole-process benchmarks: the test flags plus the peers
 * they measure against (Debian's Python with google-auth-oauthlib, and gh).
 */
export function benchTaskFlags(): string[] {
  const peers = ["/usr/bin/python3", "gh"].filter((peer) => !TEST_PROGRAMS.includes(peer));
  return testTaskFlags(TEST_TMP).map((flag) =>
    flag.startsWith("--allow-run=") ? [flag, ...peers].join(",") : flag
  );
}

/** The flags of `deno task compile` (scripts/compile.ts). */
export function compileTaskFlags(): string[] {
  return [
    "--allow-read=.",
    "--allow-write=dist",
    "--allow-env=DENORT_BIN",
    `--allow-run=${DENO_PATH}`,
  ];
}

/** The flags of `deno task setup` (scripts/setup.ts installs what the tests drive). */
export function setupTaskFlags(): string[] {
  return [
    "--allow-run=apt-get,dpkg-query,npm",
    "--allow-read=.tools",
    "--allow-sys=uid",
  ];
}

/**
 * The flags of the scripts `deno task check` runs: the layering check reads
 * lib/ and runs `deno info`; the check of doc examples marked ignore also
 * writes their copies to {@linkcode TEST_TMP} and runs `deno check`.
 */
export function checkTaskFlags(script: "layers" | "ignored_examples"): string[] {
  return script === "layers"
    ? ["--allow-read=.", `--allow-run=${DENO_PATH}`]
    : ["--allow-read=.", `--allow-write=${TEST_TMP}`, `--allow-run=${DENO_PATH}`];
}

/** The flags of each script a deno.json task runs with `deno run`, by its path. */
export function taskScriptFlags(): Record<string, string[]> {
  return {
    "main.ts": demoTaskFlags(),
    "scripts/test.ts": testRunnerFlags(),
    "scripts/hostile.ts": benchTaskFlags(),
    "scripts/token_bench.ts": benchTaskFlags(),
    "scripts/status_bench.ts": benchTaskFlags(),
    "scripts/bench.ts": benchTaskFlags(),
    "scripts/compile.ts": compileTaskFlags(),
    "scripts/setup.ts": setupTaskFlags(),
    "scripts/check_layers.ts": checkTaskFlags("layers"),
    "scripts/check_ignored_examples.ts": checkTaskFlags("ignored_examples"),
  };
}

/**
 * Every `deno run FLAGS SCRIPT` in the task commands of deno.json's `text`
 * (the `$(deno eval …)` in a flag kept whole), with where its flags start.
 */
export function taskRuns(text: string): { flags: string; script: string; index: number }[] {
  // Deno's path as the tasks write it holds spaces: one token while matching.
  const masked = text.replaceAll(DENO_PATH, "\u0000".repeat(DENO_PATH.length));
  const runs = [];
  for (const command of masked.matchAll(/"command": "((?:[^"\\]|\\.)*)"/g)) {
    const start = command.index + command[0].indexOf(command[1]);
    for (const match of command[1].matchAll(/\bdeno run ((?:-\S+ )*)(\S+\.ts)\b/g)) {
      const index = start + match.index + "deno run ".length;
      const flags = text.slice(index, index + match[1].length).trim();
      runs.push({ flags, script: match[2], index });
    }
  }
  return runs;
}

/** The installer a user pipes to `sh` (README, docs/install.md). */
export const INSTALL_SCRIPT = "install.sh";

/**
 * The shell variables the installed `loopauth` command (written by
 * {@linkcode INSTALL_SCRIPT}) sets on every run before it starts Deno: the
 * config directory, the agent's runtime and short directories and the
 * session bus as loopauth works them out from the environment now, and the
 * hosts the install was given.
 */
export const SHIM_VARS = {
  configDir: "$cfg",
  runtimeDir: "$run",
  shortDir: "$short",
  bus: "$bus",
  hosts: "$hosts",
} as const;

/**
 * The permission flags of the installed `loopauth` command, each a word its
 * script double-quotes: {@linkcode runFlags} over {@linkcode SHIM_VARS}, so
 * that a later `XDG_CONFIG_HOME`, `XDG_RUNTIME_DIR` or `TMPDIR` is granted
 * rather than the one of install time.
 */
export function shimFlags(): string[] {
  return runFlags(SHIM_VARS.configDir, [SHIM_VARS.hosts], {
    runtimeDir: SHIM_VARS.runtimeDir,
    shortDir: SHIM_VARS.shortDir,
    bus: SHIM_VARS.bus,
  });
}

if (import.meta.main) {
  const expected = taskScriptFlags();
  let text = await Deno.readTextFile("deno.json");
  // From the last so that the earlier indexes hold.
  for (const run of taskRuns(text).reverse()) {
    const flags = expected[run.script];
    if (!flags) throw new Error(`deno.json runs ${run.script}: add its flags to taskScriptFlags`);
    text = text.slice(0, run.index) + flags.join(" ") + text.slice(run.index + run.flags.length);
  }
  await Deno.writeTextFile("deno.json", text);
}
