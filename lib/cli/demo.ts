/** `loopauth demo`. @module */
import { apiRequest } from "../ops/api.ts";
import { actAsUser, startDevProvider } from "../dev/provider.ts";
import { parseDuration } from "../core/duration.ts";
import { login } from "../ops/login.ts";
import { configDir as defaultConfigDir } from "../store/paths.ts";
import { type Command, flagHelp, type Flags, parseFlags } from "./command.ts";
import { showUrl } from "../flows/show_url.ts";

/** The flags of `demo` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  "no-browser": {
    type: "boolean",
    description: "approve automatically instead of opening a browser",
  },
  timeout: {
    type: "string",
    value: "DURATION",
    description: "how long to wait for you in the browser (default 5m)",
  },
  dir: {
    type: "string",
    value: "DIR",
    description: "where to keep the temporary files (default: the config directory)",
  },
} as const satisfies Flags;

/**
 * The `demo` subcommand: the real login, end to end, against the built-in
 * provider, in a temporary config directory.
 *
 * @example
 * ```ts ignore
 * import { command } from "./demo.ts";
 * await command.run(["--no-browser"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "demo",
  flags: FLAGS,
  // Built when asked for: the flag lists cost every run of the command otherwise.
  get help() {
    return `Run a complete login against the built-in local provider.

Starts the GitHub-compatible provider on 127.0.0.1, runs the real loopback login (your
browser shows its consent page; without a browser the demo approves it itself), calls
GET /user through Octokit, prints the result and removes its temporary files. They
live in a new directory inside DIR, so the demo needs no permission beyond login's.

Usage: loopauth demo [--no-browser] [--timeout DURATION] [--dir DIR]

Flags:
${flagHelp(FLAGS)}

Example:
  loopauth demo --no-browser`;
  },
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "demo" });
    const timeout = typeof values.timeout === "string" ? parseDuration(values.timeout) : undefined;
    const parent = typeof values.dir === "string" ? values.dir : defaultConfigDir();
    const created = await ensureDir(parent);
    const configDir = await Deno.makeTempDir({ dir: parent, prefix: "demo-" });
    const provider = startDevProvider({ signal });
    let user: Promise<unknown> = Promise.resolve();
    try {
      console.error(`Started the built-in provider at ${provider.origin}`);
      const result = await login({
        hostname: provider.origin,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        scopes: "read:user",
        configDir,
        // The demo plays the user on the consent page: the browser route only.
        flow: "web",
        progress: false,
        timeout,
        signal,
        openBrowser: showUrl(provider.origin, {
          noBrowser: values["no-browser"] === true,
          onNoBrowser: (url) => {
            console.error("No browser: approving the consent page automatically");
            user = actAsUser(url, { signal });
          },
        }),
      });
      await user;
      console.log(`Logged in to ${result.host} as ${result.login}`);
      const me = await apiRequest("/user", { hostname: provider.origin, configDir, signal });
      console.log("GET /user through Octokit answered:");
      console.log(JSON.stringify(me, null, 2));
      return 0;
    } finally {
      await user.catch(() => {});
      await Deno.remove(configDir, { recursive: true }).catch(() => {});
      if (created) await Deno.remove(parent).catch(() => {});
      await provider.close();
    }
  },
};

/** Creates `dir` (mode 0700) when missing; true when it did. */
async function ensureDir(dir: string): Promise<boolean> {
  try {
    await Deno.stat(dir);
    return false;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  return true;
}
