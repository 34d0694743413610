/** `loopauth mcp-proxy`. @module */
import { EXIT_CODES, LoopauthError } from "../core/errors.ts";
import { terminalSafe } from "../core/text.ts";
import { resourceFetch } from "../ops/resource_session.ts";
import { canonicalResource } from "../providers/resource_url.ts";
import {
  type Command,
  flagHelp,
  flagOrEnv,
  type Flags,
  parseFlags,
  portFlag,
  SCOPES_FLAG,
} from "./command.ts";
import { resourceClientFlags } from "./client_secret.ts";
import { parseStorage } from "../store/secret_store.ts";
import { STORAGE_NAMES } from "../store/secrets.ts";
// The official SDK's transports: the protocol is not written by hand here.
import { StdioServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/stdio.js";
import { StreamableHTTPClientTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp.js";
import type { JSONRPCMessage } from "npm:@modelcontextprotocol/sdk@1.32.2/types.js";

/** The flags of `mcp-proxy` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  "client-id": {
    type: "string",
    value: "ID",
    description: "a client registered at the server's authorization server",
  },
  "client-secret-file": {
    type: "string",
    value: "PATH",
    description:
      "its secret: the file's first line (or LOOPAUTH_CLIENT_SECRET; only with --client-id)",
  },
  "client-metadata-url": {
    type: "string",
    value: "URL",
    description:
      "your app's client ID metadata document (https), used where the authorization server supports them",
  },
  scopes: {
    ...SCOPES_FLAG.scopes,
    description:
      "scopes to ask for (default: the server's challenge, else its scopes_supported, else none)",
  },
  port: {
    type: "string",
    value: "PORT",
    description: "the callback port (default: a free one)",
  },
  "no-resource-indicator": {
    type: "boolean",
    description:
      "send no RFC 8707 resource parameter (for servers that reject it; the token is then not bound to this server)",
  },
  "no-browser": { type: "boolean", description: "open no browser: only print the URL on stderr" },
  device: {
    type: "boolean",
    description:
      "log in with the device flow only (RFC 8628, where the authorization server offers it); the code goes to stderr",
  },
  web: { type: "boolean", description: "log in with the browser (loopback) flow only" },
  storage: {
    type: "string",
    values: STORAGE_NAMES,
    description:
      "where to keep the token (or LOOPAUTH_STORAGE), as login's --storage: default the OS keyring, else a running agent, else a 0600 file (with a warning)",
  },
} as const satisfies Flags;

/**
 * The `mcp-proxy` subcommand: a stdio ↔ Streamable HTTP bridge that logs in
 * to the remote MCP server when it asks (and again for more scopes).
 *
 * @example
 * ```ts ignore
 * import { command } from "./mcp_proxy.ts";
 * await command.run(["https://mcp.example.com/mcp"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "mcp-proxy",
  flags: FLAGS,
  help: `Connect an MCP client that speaks stdio to a remote MCP server protected by OAuth.

Reads JSON-RPC on stdin and writes it on stdout, and nothing else there; sends it to URL
over Streamable HTTP. When the server asks for a login (401), loopauth finds its
authorization server (RFC 9728 resource metadata, RFC 8414 / OpenID Connect discovery),
picks a client (--client-id, --client-metadata-url where the server takes one, else dynamic
registration), opens the browser and prints the URL on stderr; where no local browser
surely reaches this machine (SSH, containers, no display) and the authorization server
offers the device flow, it also prints a device code there, and the first route to finish
wins. An expiring token is
refreshed; a 403 insufficient_scope naming new scopes re-authorizes for them (twice at
most per request). The token goes to URL's origin only. It is stored under URL as
login --resource stores it (the keyring, else a running agent, else a 0600 file), and the
next session starts with it: no second login, no second registration.

Usage: loopauth mcp-proxy URL [--client-id ID [--client-secret-file PATH]]
                          [--client-metadata-url URL] [--scopes LIST] [--port PORT]
                          [--no-resource-indicator] [--no-browser] [--device | --web]
                          [--storage keyring|file|agent|encrypted]

Flags:
${flagHelp(FLAGS)}

Examples:
  loopauth mcp-proxy https://mcp.example.com/mcp
  claude mcp add example -- loopauth mcp-proxy https://mcp.example.com/mcp`,
  async run(argv, { signal }) {
    const { values, positionals } = parseFlags(argv, FLAGS, {
      command: "mcp-proxy",
      positionals: true,
    });
    if (positionals.length !== 1) {
      throw new LoopauthError("usage", "Give the MCP server's URL: loopauth mcp-proxy URL");
    }
    if (values.device && values.web) {
      throw new LoopauthError(
        "usage",
        "Give --device or --web, not both: see loopauth help mcp-proxy",
      );
    }
    const resource = canonicalResource(positionals[0]);
    // stdin is the JSON-RPC channel: the secret comes from a file or the environment only
    // (mcp-proxy has no --client-secret).
    const { clientId, clientSecret } = await resourceClientFlags(values);
    const session = resourceFetch({
      resource,
      clientId,
      clientSecret,
      clientMetadataUrl: values["client-metadata-url"],
      scopes: values.scopes,
      port: portFlag(values),
      omitResourceParameter: values["no-resource-indicator"] === true,
      // Every route at once where a browser may not reach this machine (as every login).
      flow: values.device ? "device" : values.web ? "web" : "auto",
      // Its stderr is the MCP client's log, one line per event: no status line.
      progress: false,
      store: true,
      storage: parseStorage(flagOrEnv(values, "storage", "LOOPAUTH_STORAGE")),
      onLogin: (result) => {
        if (result.storage !== "file") return;
        const why = result.keyringUnavailable
          ? ` (no OS keyring: ${result.keyringUnavailable})`
          : "";
        console.error(
          `Warning: token stored in plain text at ${result.storedIn} (mode 0600)${why}`,
        );
      },
      signal,
      // The browser gets the one-time start URL, never the authorization URL itself.
      openBrowser: values["no-browser"] !== true,
      onAuthorizationUrl: (url) => console.error(`Log in to ${terminalSafe(resource)}: ${url}`),
      onWarning: (message) => console.error(`Warning: ${message}`),
    });
    return await bridge(resource, {
      fetch: (input, init) => session.fetch(input, init),
      signal,
    });
  },
};

/** Relays messages both ways until either side closes; one stderr line per failure. */
async function bridge(
  resource: string,
  options: {
    fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
    signal: AbortSignal;
  },
): Promise<number> {
  const local = new StdioServerTransport();
  const remote = new StreamableHTTPClientTransport(new URL(resource), { fetch: options.fetch });
  const { promise: closed, resolve: close } = Promise.withResolvers<number>();
  let failures = 0;
  // The SDK hands a failed send both to onerror and to the send's caller: said once.
  const reported = new WeakSet<object>();
  const fail = (error: unknown) => {
    if (typeof error === "object" && error !== null) {
      if (reported.has(error)) return;
      reported.add(error);
    }
    failures++;
    console.error(`Error: ${oneLine(error)}`);
  };
  local.onmessage = (message: JSONRPCMessage) => {
    remote.send(message).catch(async (error: unknown) => {
      fail(error);
      // A request gets its answer: the client is not left waiting for one that never comes.
      if ("id" in message && "method" in message) {
        await local.send({
          jsonrpc: "2.0",
          id: message.id,
          error: { code: -32603, message: oneLine(error) },
        }).catch(() => {});
      }
      // loopauth's own failure (the login, its discovery, a refresh, the server unreachable)
      // ends the bridge with its exit code: no later request could succeed. An error answer
      // of the server is the request's alone, and the session goes on.
      if (error instanceof LoopauthError) close(EXIT_CODES[error.code]);
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => void local.send(message).catch(fail);
  local.onclose = () => close(failures ? 1 : 0);
  remote.onerror = (error: Error) => {
    if (!/SSE stream disconnected|AbortError/i.test(String(error))) fail(error);
  };
  options.signal.addEventListener("abort", () => close(130), { once: true });
  await remote.start();
  await local.start();
  const code = await closed;
  await remote.close().catch(() => {});
  await local.close().catch(() => {});
  return code;
}

/** An error as one line for stderr. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return terminalSafe(text.split("\n")[0], { max: 300 });
}
