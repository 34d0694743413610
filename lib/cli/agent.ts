/** `loopauth agent`. @module */
import { firstLine } from "../core/first_line.ts";
import { formatDuration, parseDuration } from "../core/duration.ts";
import { LoopauthError } from "../core/errors.ts";
import { within } from "../core/timers.ts";
import { agentRequest, isAgentNotRunning, probeAgent } from "../store/agent_client.ts";
import {
  agentDir,
  agentSocketPath,
  defaultAgentSocket,
  fitsSocket,
  MAX_SOCKET_PATH,
} from "../store/agent_paths.ts";
import { formatUse, runAgent } from "../store/agent_server.ts";
import { forwardAgent } from "../store/agent_forward.ts";
import { configDir } from "../store/paths.ts";
import { AGENT_ENV_VARS, childEnvironment } from "../platform/child_env.ts";
import {
  type Command,
  flagHelp,
  type Flags,
  oneAction,
  parseFlags,
  writeResult,
} from "./command.ts";

/** The default time to live of an agent. */
const DEFAULT_TTL = "12h";

/** How long `agent start` waits for the agent it started to listen. */
const START_TIMEOUT_MS = 20_000;

/** What `agent` does: its first argument. */
const ACTIONS = ["start", "stop", "status", "forward"] as const;

/** The flags of `agent` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  ttl: {
    type: "string",
    value: "DURATION",
    description:
      "how long the agent lives, e.g. 8h or 90m (default 12h); forward: how long the forwarded key works",
  },
  host: {
    type: "string",
    multiple: true,
    value: "HOST",
    description: "forward: a host whose access token the remote may read (repeat it)",
  },
  out: {
    type: "string",
    value: "DIR",
    description: "forward: where to write agent.sock.key and config.json",
  },
  json: {
    type: "boolean",
    description: "start, status, forward: print JSON (socket, pid, expiresAt)",
  },
  foreground: {
    type: "boolean",
    description: "start: run the agent in this process (for systemd and the like)",
  },
  socket: {
    type: "string",
    value: "PATH",
    description:
      "where it listens (start: default $XDG_RUNTIME_DIR/loopauth/agent.sock, else agent/agent.sock in the config directory; stop, status: default $LOOPAUTH_AGENT, else the same)",
  },
} as const satisfies Flags;

/**
 * The `agent` subcommand: starts, stops and shows the loopauth agent, which
 * keeps tokens in memory (see docs/agent.md).
 *
 * @example
 * ```ts ignore
 * import { command } from "./agent.ts";
 * await command.run(["status"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "agent",
  flags: FLAGS,
  subcommands: ACTIONS,
  // Built when asked for: the flag lists cost every run of the command otherwise.
  get help() {
    return `Keep tokens in memory, not in files: a per-user agent on a Unix socket, like ssh-agent.

Usage: loopauth agent start [--ttl DURATION] [--json] [--foreground] [--socket PATH]
       loopauth agent stop [--socket PATH]
       loopauth agent status [--json] [--socket PATH]
       loopauth agent forward --host HOST [--host HOST…] [--ttl DURATION] [--out DIR]
                              [--json] [--socket PATH]

start prints an export line for LOOPAUTH_AGENT (eval "$(loopauth agent start)") and
leaves the agent running in the background until --ttl has passed (default 12h), it is
stopped, or it gets SIGTERM. Then log in with --storage agent (or with no keyring, as the
automatic choice); token, api and git-credential ask the agent. Secrets live only in its
memory: when it ends they are gone, and the next use says so (exit 8): log in again.
An encrypted store (--storage encrypted) caches its unlocked key in a running agent.

forward makes what a remote host needs to use the agent over ssh -R: a key that may
only read the access tokens of the hosts named (no refresh token, no client secret, no
change), until --ttl has passed (default: as long as the agent lives), and a config.json
naming only those hosts' accounts, both written to --out (default: forward beside the
socket). The agent logs every use of it; status shows the latest uses.

Flags:
${flagHelp(FLAGS)}

Exits 8 when no agent answers (stop, status) or one cannot be started.

Examples:
  eval "$(loopauth agent start --ttl 8h)"
  loopauth login --client-id Iv1.abc --storage agent
  loopauth agent forward --host github.com --ttl 2h
  loopauth agent stop`;
  },
  async run(argv, { signal }) {
    const { values, positionals } = parseFlags(argv, FLAGS, {
      command: "agent",
      positionals: true,
    });
    const action = oneAction(
      positionals,
      ACTIONS,
      "loopauth agent takes one of start, stop, status or forward: see loopauth help agent",
    );
    if (action !== "forward" && (values.host !== undefined || values.out !== undefined)) {
      throw new LoopauthError(
        "usage",
        "--host and --out go with loopauth agent forward: see loopauth help agent",
      );
    }
    const given = values.socket;
    if (given !== undefined && !given.startsWith("/")) {
      throw new LoopauthError("usage", `Invalid --socket "${given}": give an absolute path`);
    }
    if (given !== undefined && !fitsSocket(given)) {
      throw new LoopauthError(
        "usage",
        `The socket path ${given} is too long for the OS (at most ${MAX_SOCKET_PATH} bytes): use a shorter --socket`,
      );
    }
    if (action === "start") {
      const ttl = parseDuration(values.ttl ?? DEFAULT_TTL);
      const socket = given ?? defaultAgentSocket();
      if (values.foreground) {
        await runAgent({
          socket,
          ttl,
          signal,
          log: (line) => console.error(line),
          onReady: (info) => printStarted(info, { json: values.json === true }),
        });
        return 0;
      }
      const running = await probeAgent({ socket });
      if (running.ok) {
        printStarted({ socket, ...running.status }, { json: values.json === true, already: true });
        return 0;
      }
      printStarted(await startInBackground(socket, ttl), { json: values.json === true });
      return 0;
    }
    const socket = given ?? agentSocketPath();
    if (action === "forward") {
      const hosts = values.host ?? [];
      if (hosts.length === 0) {
        throw new LoopauthError(
          "usage",
          "loopauth agent forward needs at least one --host (the hosts whose tokens the remote may read)",
        );
      }
      if (values.out !== undefined && !values.out.startsWith("/")) {
        throw new LoopauthError("usage", `Invalid --out "${values.out}": give an absolute path`);
      }
      const ttl = values.ttl === undefined ? undefined : parseDuration(values.ttl);
      try {
        const bundle = await forwardAgent(hosts, {
          socket,
          configDir: configDir(),
          ...(ttl === undefined ? {} : { ttl }),
          ...(values.out === undefined ? {} : { out: values.out }),
        });
        printForward(socket, bundle, { json: values.json === true });
        return 0;
      } catch (error) {
        if (!isAgentNotRunning(error)) throw error;
        throw new LoopauthError("storage", `No agent is running at ${socket}`, { cause: error });
      }
    }
    try {
      if (action === "stop") {
        await agentRequest({ op: "stop" }, { socket });
        console.error(`Stopped the agent at ${socket}`);
        return 0;
      }
      const { status } = await agentRequest({ op: "status" }, { socket });
      if (!status) throw new LoopauthError("storage", `The agent at ${socket} sent no status`);
      if (values.json) writeResult(`${JSON.stringify({ socket, ...status })}\n`);
      else if (status.forwarded) {
        writeResult(
          `Agent at ${socket}: running (pid ${status.pid}), reached with a forwarded key until ${status.expiresAt}: read-only, the access tokens of ${
            status.forwarded.join(", ")
          } (${status.items} account${status.items === 1 ? "" : "s"})\n`,
        );
      } else {
        writeResult(
          `Agent at ${socket}: running (pid ${status.pid}) until ${status.expiresAt}, holding ${status.items} item${
            status.items === 1 ? "" : "s"
          }\n${
            (status.forwards ?? []).map((f) =>
              `Forwarded key ${f.id}: read-only, the access tokens of ${
                f.hosts.join(", ")
              }, until ${f.expiresAt}\n`
            ).join("")
          }${(status.uses ?? []).map((use) => `${formatUse(use)}\n`).join("")}`,
        );
      }
      return 0;
    } catch (error) {
      if (!isAgentNotRunning(error)) throw error;
      throw new LoopauthError("storage", `No agent is running at ${socket}`, { cause: error });
    }
  },
};

/** What `agent forward` prints: where the files are, and how to use them on the remote. */
function printForward(
  socket: string,
  bundle: Awaited<ReturnType<typeof forwardAgent>>,
  options: { json: boolean },
): void {
  const { forward, dir, keyPath, configPath } = bundle;
  if (options.json) {
    writeResult(`${JSON.stringify({ socket, ...forward, dir, keyPath, configPath })}\n`);
    return;
  }
  console.error(
    `Forwarded key ${forward.id}: read-only, the access tokens of ${
      forward.hosts.join(", ")
    }, until ${forward.expiresAt}; written to ${dir}`,
  );
  writeResult(
    [
      "# On the remote host (REMOTE: its name; REMOTE_HOME: your home directory there):",
      "ssh REMOTE 'mkdir -p -m 700 ~/.config/loopauth/agent'",
      `scp -p ${shellWord(keyPath)} REMOTE:.config/loopauth/agent/agent.sock.key`,
      `scp -p ${shellWord(configPath)} REMOTE:.config/loopauth/config.json`,
      `ssh -R REMOTE_HOME/.config/loopauth/agent/agent.sock:${shellWord(socket)} REMOTE`,
      "# There: export LOOPAUTH_AGENT=~/.config/loopauth/agent/agent.sock; loopauth token",
      "",
    ].join("\n"),
  );
}

/** What `agent start` prints: the export line on stdout, the rest on stderr. */
function printStarted(
  info: { socket: string; pid: number; expiresAt: string },
  options: { json: boolean; already?: boolean },
): void {
  // stderr first: the agent started in the background is read up to its stdout line.
  console.error(
    `${
      options.already ? "An agent is already running" : "Agent started"
    } at ${info.socket} (pid ${info.pid}) until ${info.expiresAt}`,
  );
  if (options.json) {
    const { socket, pid, expiresAt } = info;
    writeResult(`${JSON.stringify({ socket, pid, expiresAt })}\n`);
  } else writeResult(`export LOOPAUTH_AGENT=${shellWord(info.socket)}\n`);
}

/**
 * Starts `agent start --foreground` as a detached process with only the
 * permissions it needs (the socket's directory and socket), and waits until
 * it listens; its first error line otherwise.
 */
async function startInBackground(
  socket: string,
  ttl: number,
): Promise<{ socket: string; pid: number; expiresAt: string }> {
  const dir = agentDir(socket);
  const args = [
    "agent",
    "start",
    "--foreground",
    "--json",
    "--socket",
    socket,
    "--ttl",
    formatDuration(ttl),
  ];
  const command = Deno.build.standalone ? args : [
    "run",
    "--no-prompt",
    "--no-config",
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    `--allow-net=unix:${socket}`,
    "--allow-env=LOOPAUTH_DEBUG",
    "--allow-sys=uid",
    Deno.mainModule,
    ...args,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: command,
    cwd: "/",
    // A 12-hour process keeps none of this one's tokens or client secret in its environment.
    clearEnv: true,
    env: childEnvironment(AGENT_ENV_VARS),
    detached: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = firstLine(child.stdout);
  const stderr = new Response(child.stderr).text();
  const ready = await within(
    Promise.race([stdout, child.status.then(() => undefined)]),
    START_TIMEOUT_MS,
  );
  if (ready) {
    child.unref();
    stderr.catch(() => {});
    try {
      const info = JSON.parse(ready);
      if (typeof info.pid === "number" && typeof info.expiresAt === "string") {
        return { socket, pid: info.pid, expiresAt: info.expiresAt };
      }
    } catch { /* below */ }
  }
  try {
    child.kill("SIGTERM");
  } catch { /* it has ended */ }
  const reason = (await within(stderr, 2000))?.split("\n").find((l) => l.startsWith("Error: "));
  throw new LoopauthError(
    "storage",
    reason
      ? `The agent did not start: ${reason.slice("Error: ".length)}`
      : `The agent did not start within ${formatDuration(START_TIMEOUT_MS)}`,
  );
}

/** A path as one word for a POSIX shell. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
