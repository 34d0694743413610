/** `loopauth login`. @module */
import { parseDuration } from "../core/duration.ts";
import type { Flow } from "../core/types.ts";
import { LoopauthError } from "../core/errors.ts";
import type { FlowChoice } from "../flows/choose.ts";
import { login } from "../ops/login.ts";
import {
  type Command,
  flagOrEnv,
  HOST_FLAGS,
  issuerFlag,
  parseFlags,
  portFlag,
} from "./command.ts";
import { parseStorage } from "../store/backend.ts";
import { showUrl } from "./show_url.ts";
import { waitingView } from "./progress.ts";
import { DEFAULT_TIMEOUT_MS } from "../flows/callback_server.ts";

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

Usage: loopauth login [--hostname HOST | --issuer URL] --client-id ID [--client-secret SECRET]
                      [--scopes LIST] [--no-browser] [--timeout DURATION] [--port N]
                      [--storage keyring|file|agent|encrypted]
                      [--device | --web] [--no-qr]

Without --device or --web the routes fit the machine. Where a local browser can surely
reach 127.0.0.1 (a display, $BROWSER, macOS, Windows, WSL with wslview) the browser flow
runs alone. Everywhere else (SSH without a forwarded display, containers, Linux without a
display, WSL without wslview) every route runs at once and the first to finish wins: the
device code, the browser URL (forward its port with the printed ssh -L command over SSH),
and on a terminal pasting the address the browser ends up at (or the code). The URL is
printed in every login but --device; the flow that worked last time is shown first.

Flags:
  --hostname HOST        github.com (default), a GitHub Enterprise Server host, or an
                         http:// loopback origin such as http://127.0.0.1:8080
  --issuer URL           any OAuth 2.0 / OpenID Connect provider instead of GitHub
                         (endpoints from its metadata; register the client with the
                         redirect URI http://127.0.0.1/callback)
  --allow-no-pkce-metadata  with --issuer: continue when the metadata lists no PKCE S256
  --client-id ID         the OAuth App's client id (or LOOPAUTH_CLIENT_ID)
  --client-secret SECRET the OAuth App's client secret (or LOOPAUTH_CLIENT_SECRET)
  --scopes LIST          scopes, comma- or space-separated (default: none, public data only;
                         with --issuer: openid when the issuer supports it)
  --no-browser           open nothing (the URL is still printed)
  --timeout DURATION     how long to wait for the browser, e.g. 90s or 10m (default 5m)
  --port N               listen on this port instead of one from the OS
  --quiet                print only the URL and errors on stderr
  --json                 print the result as JSON on stdout (never the token)
  --storage NAME         where to keep the token (or LOOPAUTH_STORAGE): keyring, file,
                         agent (in the memory of loopauth agent) or encrypted (tokens.enc,
                         with a passphrase); default: the OS keyring when one answers, else
                         a running agent, else a 0600 file (with a warning)

Logging in again adds the account (or replaces the same login) and makes it the host's
active account; see loopauth switch.
  --device               use only the device flow (no client secret needed; the app
                         must have Enable Device Flow ticked)
  --web                  use only the browser (loopback) flow
  --no-qr                no QR code of the device page

Examples:
  loopauth login --client-id Iv1.abc --client-secret s3cr3t --scopes "read:user repo"
  loopauth login --hostname ghe.example.com --client-id Iv1.abc --no-browser
  loopauth login --client-id Iv1.abc --device      # on a machine without a browser
  loopauth login --issuer https://id.example.com --client-id cli --scopes "openid offline_access"`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, {
      ...HOST_FLAGS,
      "allow-no-pkce-metadata": { type: "boolean" },
      "client-id": { type: "string" },
      "client-secret": { type: "string" },
      scopes: { type: "string" },
      "no-browser": { type: "boolean" },
      timeout: { type: "string" },
      port: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      json: { type: "boolean" },
      storage: { type: "string" },
      device: { type: "boolean" },
      web: { type: "boolean" },
      "no-qr": { type: "boolean" },
    }, { command: "login" });
    if (values.device && values.web) {
      throw new LoopauthError("usage", "Give --device or --web, not both: see loopauth help login");
    }
    const quiet = values.quiet === true;
    const noBrowser = values["no-browser"] === true;
    const interactive = Deno.stdin.isTerminal() && Deno.stderr.isTerminal();
    const hostname = values.hostname;
    const issuer = issuerFlag(values);
    const host = issuer ?? hostname ?? "github.com";
    const timeout = typeof values.timeout === "string"
      ? parseDuration(values.timeout)
      : DEFAULT_TIMEOUT_MS;
    const explicit: Flow | undefined = values.device ? "device" : values.web ? "web" : undefined;
    let choice: FlowChoice | undefined;
    const view = waitingView({ quiet, timeout, flows: explicit ? [explicit] : [] });
    const show = showUrl(host, {
      noBrowser,
      quiet,
      onShown: (url) => {
        const port = new URL(new URL(url).searchParams.get("redirect_uri") ?? url).port;
        if (choice?.forwardCommand && port) {
          console.error(
            `From another machine, first forward the callback port: ${
              choice.forwardCommand(Number(port))
            }`,
          );
        }
      },
    });
    const result = await login({
      hostname,
      issuer,
      allowNoPkceMetadata: values["allow-no-pkce-metadata"] === true,
      onWarning: (message) => console.error(`Warning: ${message}`),
      clientId: flagOrEnv(values, "client-id", "LOOPAUTH_CLIENT_ID") ?? "",
      clientSecret: flagOrEnv(values, "client-secret", "LOOPAUTH_CLIENT_SECRET"),
      scopes: values.scopes,
      timeout,
      port: portFlag(values),
      storage: parseStorage(flagOrEnv(values, "storage", "LOOPAUTH_STORAGE")),
      signal,
      openBrowser: async (url) => {
        await show(url);
        view.shown("web");
      },
      flow: explicit ?? "auto",
      onFlowChosen: (chosen) => {
        choice = chosen;
        view.expect(chosen.flows);
        const names = chosen.flows.flatMap((f) =>
          f === "device"
            ? ["the device flow"]
            : interactive
            ? ["the browser flow", "paste-back"]
            : ["the browser flow"]
        );
        const list = names.length > 1
          ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`
          : names[0];
        if (!quiet) console.error(`Logging in with ${list}: ${chosen.reason}`);
      },
      onDeviceCode: async (code, { expiresAt }) => {
        const { showDeviceCode } = await import("./device_view.ts"); // only for the device flow
        await showDeviceCode(code, { host, qr: values["no-qr"] !== true, noBrowser });
        view.shown("device", expiresAt);
      },
      ...(interactive ? { pasteBack: { input: Deno.stdin.readable, write: console.error } } : {}),
    }).finally(() => view.stop());
    if (values.json) {
      const { host: hostKey, login: user, scopes, tokenType, expiresAt, storage, storedIn, flow } =
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
          flow,
        }),
      );
      return 0;
    }
    if (result.storage === "file") {
      // A warning, so it shows even with --quiet; chosen automatically, it names the way out.
      const why = result.keyringUnavailable
        ? ` (no OS keyring: ${result.keyringUnavailable}; no loopauth agent: run loopauth agent start and log in again to keep it in memory)`
        : "";
      console.error(`Warning: token stored in plain text at ${result.storedIn} (mode 0600)${why}`);
    } else if (!quiet) {
      const why = result.keyringUnavailable ? ` (no OS keyring: ${result.keyringUnavailable})` : "";
      console.error(`Token stored in ${result.storedIn}${why}`);
    }
    console.log(`Logged in to ${result.host} as ${result.login}`);
    return 0;
  },
};
