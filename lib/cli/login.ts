/** `loopauth login`. @module */
import { parseDuration } from "../duration.ts";
import { login } from "../login.ts";
import { type Command, flagOrEnv, parseFlags, portFlag, storageFlag } from "./command.ts";
import { showUrl } from "./show_url.ts";
import { startWaiting, type Waiting } from "./progress.ts";
import { DEFAULT_TIMEOUT_MS } from "../callback_server.ts";

/**
 * The `login` subcommand.
 *
 * @example
 * ```ts
 * import { command } from "./login.ts";
 * await command.run(["--client-id", "Iv1.abc", "--no-browser"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "login",
  help: `Log in with your browser and store the token.

Usage: loopauth login [--hostname HOST] --client-id ID [--client-secret SECRET]
                      [--scopes LIST] [--no-browser] [--timeout DURATION] [--port N]
                      [--storage keyring|file]

Flags:
  --hostname HOST        github.com (default), a GitHub Enterprise Server host, or an
                         http:// loopback origin such as http://127.0.0.1:8080
  --client-id ID         the OAuth App's client id (or LOOPAUTH_CLIENT_ID)
  --client-secret SECRET the OAuth App's client secret (or LOOPAUTH_CLIENT_SECRET)
  --scopes LIST          scopes, comma- or space-separated (default: none, public data only)
  --no-browser           print the URL without opening a browser
  --timeout DURATION     how long to wait for the browser, e.g. 90s or 10m (default 5m)
  --port N               listen on this port instead of one from the OS
  --quiet                print only the URL and errors on stderr
  --json                 print the result as JSON on stdout (never the token)
  --storage keyring|file where to keep the token (or LOOPAUTH_STORAGE); default: the OS
                         keyring when one answers, else a 0600 file (with a warning)

Logging in again adds the account (or replaces the same login) and makes it the host's
active account; see loopauth switch.

Examples:
  loopauth login --client-id Iv1.abc --client-secret s3cr3t --scopes "read:user repo"
  loopauth login --hostname ghe.example.com --client-id Iv1.abc --no-browser`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, {
      hostname: { type: "string" },
      "client-id": { type: "string" },
      "client-secret": { type: "string" },
      scopes: { type: "string" },
      "no-browser": { type: "boolean" },
      timeout: { type: "string" },
      port: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      json: { type: "boolean" },
      storage: { type: "string" },
    }, { command: "login" });
    const quiet = values.quiet === true;
    const hostname = values.hostname as string | undefined;
    const host = hostname ?? "github.com";
    const timeout = typeof values.timeout === "string"
      ? parseDuration(values.timeout)
      : DEFAULT_TIMEOUT_MS;
    const show = showUrl(host, { noBrowser: values["no-browser"] === true, quiet });
    let waiting: Waiting | undefined;
    const result = await login({
      hostname,
      clientId: flagOrEnv(values, "client-id", "LOOPAUTH_CLIENT_ID") ?? "",
      clientSecret: flagOrEnv(values, "client-secret", "LOOPAUTH_CLIENT_SECRET"),
      scopes: values.scopes as string | undefined,
      timeout,
      port: portFlag(values),
      storage: storageFlag(values),
      signal,
      openBrowser: async (url) => {
        await show(url);
        if (!quiet) waiting = startWaiting({ label: "Waiting for the browser", timeout });
      },
    }).finally(() => waiting?.stop());
    if (values.json) {
      const { host: hostKey, login: user, scopes, tokenType, expiresAt, storage, storedIn } =
        result;
      console.log(
        JSON.stringify({
          host: hostKey,
          login: user,
          scopes,
          tokenType,
          expiresAt,
          storage,
          storedIn,
        }),
      );
      return 0;
    }
    if (result.storage === "file") {
      // A warning, so it shows even with --quiet.
      const why = result.keyringUnavailable ? ` (no OS keyring: ${result.keyringUnavailable})` : "";
      console.error(`Warning: token stored in plain text at ${result.storedIn} (mode 0600)${why}`);
    } else if (!quiet) {
      console.error(`Token stored in ${result.storedIn}`);
    }
    console.log(`Logged in to ${result.host} as ${result.login}`);
    return 0;
  },
};
