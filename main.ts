#!/usr/bin/env -S deno run --allow-net --allow-env --allow-read --allow-write --allow-run
/**
 * The loopauth command: parses arguments, dispatches to a subcommand in
 * `lib/cli/`, and maps errors to documented exit codes.
 * @module
 */
import { wrapLines } from "./lib/core/text.ts";
import type { Command, CommandEntry } from "./lib/cli/command.ts";
import { helpFlag, suggest } from "./lib/cli/command.ts";
import {
  causeChain,
  EXIT_CODES,
  exitCodeSummary,
  LoopauthError,
  permissionError,
} from "./lib/core/errors.ts";
import { VERSION } from "./lib/core/version.ts";
import { readEnvVar } from "./lib/core/env_vars.ts";

/** Subcommands, loaded on use so that `token` and `--help` stay fast. */
const COMMANDS: Record<string, CommandEntry> = {
  login: {
    summary: "Log in with your browser and store the token",
    load: () => import("./lib/cli/login.ts"),
  },
  token: { summary: "Print the stored token", load: () => import("./lib/cli/token.ts") },
  api: {
    summary: "Call the REST API with the stored token",
    load: () => import("./lib/cli/api.ts"),
  },
  logout: { summary: "Revoke the token and remove it", load: () => import("./lib/cli/logout.ts") },
  status: {
    summary: "Show accounts, where tokens live, expiry and validity",
    load: () => import("./lib/cli/status.ts"),
  },
  switch: {
    summary: "Make another account of a host the active one",
    load: () => import("./lib/cli/switch.ts"),
  },
  refresh: {
    summary: "Log in again to add or remove scopes",
    load: () => import("./lib/cli/refresh.ts"),
  },
  doctor: {
    summary: "Check what a login needs: host, metadata, storage, proxy",
    load: () => import("./lib/cli/doctor.ts"),
  },
  "git-credential": {
    summary: "git's credential helper (see setup-git)",
    load: () => import("./lib/cli/git_credential.ts"),
  },
  "setup-git": {
    summary: "Configure git to use loopauth for a host",
    load: () => import("./lib/cli/setup_git.ts"),
  },
  demo: {
    summary: "Log in against the built-in local provider",
    load: () => import("./lib/cli/demo.ts"),
  },
  "dev-server": {
    summary: "Run the built-in provider for offline development",
    load: () => import("./lib/cli/dev_server.ts"),
  },
  "mcp-proxy": {
    summary: "Bridge a stdio MCP client to a remote MCP server, logging in as it asks",
    load: () => import("./lib/cli/mcp_proxy.ts"),
  },
  agent: {
    summary: "Keep tokens in memory: start, stop or show the agent",
    load: () => import("./lib/cli/agent.ts"),
  },
  completion: {
    summary: "Print a shell completion script (bash, zsh, fish, powershell)",
    load: () => import("./lib/cli/completion.ts"),
  },
};

const HELP = `loopauth ${VERSION}: log in to GitHub from the terminal with OAuth (RFC 8252)

Usage: loopauth COMMAND [flags]

Commands:
${
  Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(14)} ${summary}`).join(
    "\n",
  )
}
  help           Show help for a command

Flags:
  -h, --help     show help
  -V, --version  print the version

Run loopauth help COMMAND for a command's flags and examples.
${wrapLines(`Exit codes: ${exitCodeSummary()}.`)}

Storage: the OS keyring when one answers, else a running loopauth agent, else a
0600 file (with a warning); --storage keyring|file|agent|encrypted or LOOPAUTH_STORAGE
forces one.`;

/** Runs the CLI with `argv` and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    if (++interrupts > 1) Deno.exit(EXIT_CODES.cancelled);
    controller.abort(new LoopauthError("cancelled", "Cancelled"));
  };
  try {
    Deno.addSignalListener("SIGINT", onInterrupt);
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h") {
      console.log(HELP);
      return name === undefined ? EXIT_CODES.usage : 0;
    }
    if (name === "--version" || name === "-V" || name === "version") {
      console.log(`loopauth ${VERSION}`);
      return 0;
    }
    if (name === "help") {
      if (rest[0] === undefined) {
        console.log(HELP);
        return 0;
      }
      console.log((await load(rest[0])).help);
      return 0;
    }
    const command = await load(name);
    // `-h` is help unless the command gives it to a flag (`token -h HOST`, as gh does).
    const shortHelp = helpFlag(command.flags ?? {}).short === "h" && rest.includes("-h");
    if (rest.includes("--help") || shortHelp) {
      console.log(command.help);
      return 0;
    }
    return await command.run(rest, { signal: controller.signal, commands: COMMANDS });
  } catch (error) {
    return report(error);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

async function load(name: string): Promise<Command> {
  if (!Object.hasOwn(COMMANDS, name)) {
    const hint = suggest(name, Object.keys(COMMANDS));
    throw new LoopauthError(
      "usage",
      `Unknown command "${name}"${hint ? ` (did you mean ${hint}?)` : ""}: see loopauth --help`,
    );
  }
  return (await COMMANDS[name].load()).command;
}

/** Prints one line for an error and returns its exit code. */
function report(error: unknown): number {
  // LOOPAUTH_DEBUG=1: what caused it, one line per cause (never a token: messages hold none).
  // Read quietly: the error may be the very denial of --allow-env.
  const debug = () => {
    if (readEnvVar("LOOPAUTH_DEBUG")) {
      for (const line of causeChain(error).slice(1)) console.error(`  caused by ${line}`);
    }
  };
  if (error instanceof LoopauthError) {
    console.error(`Error: ${error.message}`);
    debug();
    return EXIT_CODES[error.code];
  }
  const denied = permissionError(error);
  if (denied) {
    console.error(`Error: ${denied.message}`);
    return EXIT_CODES.permission;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`Error: unexpected failure: ${message.split("\n")[0]}`);
  if (readEnvVar("LOOPAUTH_DEBUG")) console.error(error);
  return 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
