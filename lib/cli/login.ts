/** `loopauth login`. @module */
import { parseDuration } from "../duration.ts";
import { LoopauthError } from "../errors.ts";
import type { FlowChoice } from "../flows/choose.ts";
import { login } from "../login.ts";
import { type Command, flagOrEnv, parseFlags, portFlag } from "./command.ts";
import { showDeviceCode } from "./device_view.ts";
import { showUrl } from "./show_url.ts";

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
                      [--device | --web] [--no-qr]

Without --device or --web the flow fits the machine: the browser flow where a browser
can open, the device flow (a code to enter on any device) over SSH, in containers, on
WSL without wslview and on Linux without a display, and both at once on an SSH
session (forward the port with the printed ssh -L command, or enter the code). The
flow that worked is remembered per host. On a terminal you can also paste the address
the browser ends up at (or the code) when it cannot reach this machine.

Flags:
  --hostname HOST        github.com (default), a GitHub Enterprise Server host, or an
                         http:// loopback origin such as http://127.0.0.1:8080
  --client-id ID         the OAuth App's client id (or LOOPAUTH_CLIENT_ID)
  --client-secret SECRET the OAuth App's client secret (or LOOPAUTH_CLIENT_SECRET)
  --scopes LIST          scopes, comma- or space-separated (default: none, public data only)
  --no-browser           print the URL without opening a browser
  --timeout DURATION     how long to wait for the browser, e.g. 90s or 10m (default 5m)
  --port N               listen on this port instead of one from the OS
  --device               use the device flow (no client secret needed; the app must
                         have Enable Device Flow ticked)
  --web                  use the browser (loopback) flow
  --no-qr                no QR code of the device page

Examples:
  loopauth login --client-id Iv1.abc --client-secret s3cr3t --scopes "read:user repo"
  loopauth login --hostname ghe.example.com --client-id Iv1.abc --no-browser
  loopauth login --client-id Iv1.abc --device      # on a machine without a browser`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, {
      hostname: { type: "string" },
      "client-id": { type: "string" },
      "client-secret": { type: "string" },
      scopes: { type: "string" },
      "no-browser": { type: "boolean" },
      timeout: { type: "string" },
      port: { type: "string" },
      device: { type: "boolean" },
      web: { type: "boolean" },
      "no-qr": { type: "boolean" },
    }, { command: "login" });
    if (values.device && values.web) {
      throw new LoopauthError("usage", "Give --device or --web, not both: see loopauth help login");
    }
    const noBrowser = values["no-browser"] === true;
    let choice: FlowChoice | undefined;
    const interactive = Deno.stdin.isTerminal() && Deno.stderr.isTerminal();
    const hostname = values.hostname as string | undefined;
    const host = hostname ?? "github.com";
    const result = await login({
      hostname,
      clientId: flagOrEnv(values, "client-id", "LOOPAUTH_CLIENT_ID") ?? "",
      clientSecret: flagOrEnv(values, "client-secret", "LOOPAUTH_CLIENT_SECRET"),
      scopes: values.scopes as string | undefined,
      timeout: typeof values.timeout === "string" ? parseDuration(values.timeout) : undefined,
      port: portFlag(values),
      signal,
      openBrowser: showUrl(host, {
        noBrowser,
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
      }),
      flow: values.device ? "device" : values.web ? "web" : "auto",
      onFlowChosen: (chosen) => {
        choice = chosen;
        const names = chosen.flows.map((f) => f === "web" ? "the browser flow" : "the device flow");
        console.error(`Logging in with ${names.join(" and ")}: ${chosen.reason}`);
      },
      onDeviceCode: showDeviceCode({
        qr: values["no-qr"] !== true,
        // A live line would fight with a paste on the same terminal.
        countdown: () => (choice?.flows.length ?? 1) === 1,
        noBrowser,
      }),
      ...(interactive
        ? { pasteBack: { input: Deno.stdin.readable, write: (line) => console.error(line) } }
        : {}),
    });
    console.error(`Token stored in plain text at ${result.storedIn} (mode 0600)`);
    console.log(`Logged in to ${result.host} as ${result.login}`);
    return 0;
  },
};
