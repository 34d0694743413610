/**
 * How to start loopauth again from a shell (for git's credential helper),
 * with the narrowest permissions the helper needs.
 * @module
 */
import { fileURLToPath } from "node:url";
import type { GitHubHost } from "../providers/github.ts";
import { agentDir, agentSocketPath, defaultAgentSocket } from "../store/agent_paths.ts";

import { ENV_VARS } from "../core/env_vars.ts";

/**
 * Quotes a word for a POSIX shell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellQuote } from "./self_command.ts";
 * assert.equal(shellQuote("it's"), "'it'\\''s'");
 * ```
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * The shell command that runs `loopauth git-credential` for one host: the
 * compiled binary itself, or `deno run` with network access to that host
 * only (for refreshes), the config directory, the agent's socket (the one
 * in use now and the one in the config directory), the documented
 * variables and the keyring commands.
 *
 * @example
 * ```ts
 * import { gitCredentialCommand } from "./self_command.ts";
 * import { resolveGitHubHost } from "../providers/github.ts";
 * gitCredentialCommand(resolveGitHubHost("github.com"), "/home/me/.config/loopauth");
 * ```
 */
export function gitCredentialCommand(host: GitHubHost, configDir: string): string {
  if (Deno.build.standalone) return `${shellQuote(Deno.execPath())} git-credential`;
  const main = Deno.mainModule.startsWith("file:")
    ? fileURLToPath(Deno.mainModule)
    : Deno.mainModule;
  const sockets = [
    ...new Set([
      agentSocketPath({ configDir }),
      defaultAgentSocket({ configDir, env: () => undefined }),
    ]),
  ];
  const net = [new URL(host.origin).host, new URL(host.apiUrl).host];
  const outside = sockets.map(agentDir).filter((dir) => !dir.startsWith(`${configDir}/`));
  const dirs = [...new Set([configDir, ...outside])].join(",");
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-config",
    `--allow-net=${[...new Set(net), ...sockets.map((s) => `unix:${s}`)].join(",")}`,
    `--allow-env=${ENV_VARS.join(",")}`,
    `--allow-read=${dirs}`,
    `--allow-write=${dirs}`,
    "--allow-sys=uid",
    "--allow-run=secret-tool,security",
    main,
    "git-credential",
  ].map(shellQuote).join(" ");
}
