/** `loopauth dev-server`. @module */
import { startDevProvider } from "../dev/provider.ts";
import { type Command, parseFlags, portFlag } from "./command.ts";

/**
 * The `dev-server` subcommand: runs the built-in provider until Ctrl-C.
 *
 * @example
 * ```ts
 * import { command } from "./dev_server.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 1000);
 * await command.run(["--auto-approve"], { signal: stop.signal });
 * ```
 */
export const command: Command = {
  name: "dev-server",
  help: `Run the built-in GitHub-compatible provider for offline development.

Usage: loopauth dev-server [--port N] [--auto-approve] [--client-id ID] [--client-secret S]

Flags:
  --port N             listen on 127.0.0.1:N (default: a free port)
  --auto-approve       approve every authorization without a consent page
  --client-id ID       the registered client id (default loopauth-dev)
  --client-secret S    its client secret (default loopauth-dev-secret)

Example:
  loopauth dev-server --port 8400`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, {
      port: { type: "string" },
      "auto-approve": { type: "boolean" },
      "client-id": { type: "string" },
      "client-secret": { type: "string" },
    }, { command: "dev-server" });
    const provider = startDevProvider({
      port: portFlag(values),
      autoApprove: values["auto-approve"] === true,
      clientId: values["client-id"],
      clientSecret: values["client-secret"],
    });
    console.log(`origin: ${provider.origin}`);
    console.log(`client id: ${provider.clientId}`);
    console.log(`client secret: ${provider.clientSecret}`);
    console.error(
      `Try: loopauth login --hostname ${provider.origin} --client-id ${provider.clientId} --client-secret ${provider.clientSecret}`,
    );
    console.error("Press Ctrl-C to stop");
    await new Promise((stop) => signal.addEventListener("abort", stop, { once: true }));
    await provider.close();
    return 0;
  },
};
