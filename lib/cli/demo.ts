/** `loopauth demo`. @module */
import { apiRequest } from "../api.ts";
import { actAsUser, startDevProvider } from "../dev_provider.ts";
import { parseDuration } from "../duration.ts";
import { login } from "../login.ts";
import { type Command, parseFlags } from "./command.ts";
import { showUrl } from "./show_url.ts";

/**
 * The `demo` subcommand: the real login, end to end, against the built-in
 * provider, in a temporary config directory.
 *
 * @example
 * ```ts
 * import { command } from "./demo.ts";
 * await command.run(["--no-browser"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "demo",
  help: `Run a complete login against the built-in local provider.

Starts the GitHub-compatible provider on 127.0.0.1, runs the real loopback login (your
browser shows its consent page; without a browser the demo approves it itself), calls
GET /user through Octokit, prints the result and removes its temporary files.

Usage: loopauth demo [--no-browser] [--timeout DURATION]

Flags:
  --no-browser        approve automatically instead of opening a browser
  --timeout DURATION  how long to wait for you in the browser (default 5m)

Example:
  loopauth demo --no-browser`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, {
      "no-browser": { type: "boolean" },
      timeout: { type: "string" },
    }, { command: "demo" });
    const timeout = typeof values.timeout === "string" ? parseDuration(values.timeout) : undefined;
    const provider = startDevProvider({ signal });
    const configDir = await Deno.makeTempDir({ dir: tempRoot(), prefix: "loopauth-demo-" });
    let user: Promise<unknown> = Promise.resolve();
    try {
      console.error(`Started the built-in provider at ${provider.origin}`);
      const result = await login({
        hostname: provider.origin,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        scopes: "read:user",
        configDir,
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
      await provider.close();
    }
  },
};

/** The system temp directory, named so the task's --allow-write can match it. */
function tempRoot(): string {
  return Deno.build.os === "windows" ? (Deno.env.get("TEMP") ?? "C:\\Windows\\Temp") : "/tmp";
}
