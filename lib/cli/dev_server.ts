/** `loopauth dev-server`. @module */
import { parseDuration } from "../core/duration.ts";
import { LoopauthError } from "../core/errors.ts";
import { listenError } from "../core/listen_error.ts";
import { terminalSafe } from "../core/text.ts";
import { startDevProvider } from "../dev/provider.ts";
import type { DevProvider, DevProviderOptions } from "../dev/types.ts";
import { isGitHubLogin } from "../providers/github_host.ts";
import { configDir } from "../store/paths.ts";
import { parseRedirectUri } from "../flows/redirect_uri.ts";
import {
  type Command,
  flagHelp,
  type Flags,
  type Parsed,
  parseFlags,
  portFlag,
  refuseFlags,
} from "./command.ts";

/** GitHub's refresh token lifetime (about 6 months), for `--expiring`. */
const REFRESH_TTL_S = 15_897_600;

/** The flags of `dev-server` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  port: {
    type: "string",
    value: "N",
    description: "listen on 127.0.0.1:N (default: a free port; 443 needs root)",
  },
  "auto-approve": {
    type: "boolean",
    description: "approve every authorization without a consent page",
  },
  "client-id": {
    type: "string",
    value: "ID",
    description: "the registered client id (default loopauth-dev)",
  },
  "client-secret": {
    type: "string",
    value: "S",
    description: "its client secret (default loopauth-dev-secret)",
  },
  user: { type: "string", value: "LOGIN", description: "the user who logs in (default octocat)" },
  "scopes-granted": {
    type: "string",
    value: "LIST",
    description: "every token gets these scopes, whatever was asked for",
  },
  "device-interval": {
    type: "string",
    value: "SECONDS",
    description: "seconds between device-flow polls (default 5; gh wants whole seconds)",
  },
  "no-device-flow": {
    type: "boolean",
    description:
      "no device flow: GitHub's device_flow_disabled answer (an app without Enable Device Flow); with --mcp, no device_authorization_endpoint (the browser route alone)",
  },
  expiring: {
    type: "string",
    value: "DURATION",
    description:
      "GitHub-App-style tokens: ghu_ access tokens that expire after DURATION, single-use ghr_ refresh tokens (e.g. 8h, 30s)",
  },
  callback: {
    type: "string",
    value: "URL",
    description:
      "the registered callback URL (default http://127.0.0.1/callback; a loopback callback may add any port, as on GitHub, unless it names one: then only that port, as providers that demand the exact URI; pair it with loopauth login --redirect-uri)",
  },
  tls: {
    type: "boolean",
    description:
      "https, with a certificate made at start by openssl; prints the CA file to trust (DENO_CERT, GIT_SSL_CAINFO, SSL_CERT_FILE, NODE_EXTRA_CA_CERTS)",
  },
  json: {
    type: "boolean",
    description:
      "print one JSON line first: origin, apiUrl, graphqlUrl, clientId, clientSecret, repository, caFile (with --tls)",
  },
  dir: {
    type: "string",
    value: "DIR",
    description:
      "where to keep its temporary files, removed on stop (the CA file, the demo repository; default: the config directory)",
  },
  mcp: {
    type: "boolean",
    description:
      "instead: a protected MCP server at ORIGIN/mcp (tools echo, write, forbidden, expire) with its authorization server at ORIGIN (resource metadata, client ID metadata documents, registration, PKCE S256, the resource enforced, scope challenges, rotating refresh tokens, the device flow); it approves every browser login at once, a device code on its /login/device page. See docs/mcp.md",
  },
  "confidential-clients": {
    type: "boolean",
    description:
      "with --mcp: registration gives every client a client_secret and its metadata lists no public (none) method, for clients that must keep a secret",
  },
} as const satisfies Flags;

/**
 * The `dev-server` subcommand: runs the built-in provider until Ctrl-C.
 *
 * @example
 * ```ts ignore
 * import { command } from "./dev_server.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 1000);
 * await command.run(["--auto-approve"], { signal: stop.signal });
 * ```
 */
export const command: Command = {
  name: "dev-server",
  flags: FLAGS,
  help: `Run the built-in GitHub-compatible provider for offline development and tests.

It answers GitHub's OAuth endpoints (web and device flow, refresh, PKCE), the REST API
under /api/v3 (/user, /user/emails, /user/repos, /repos/OWNER/REPO, /applications/...),
GraphQL at /api/graphql, and git over HTTP for a private demo repository, with GitHub
Enterprise Server's layout: gh, Octokit and git accept it. See docs/dev_server.md.

Usage: loopauth dev-server [--port N] [--auto-approve] [--client-id ID] [--client-secret S]
                           [--user LOGIN] [--scopes-granted LIST] [--device-interval SECONDS]
                           [--expiring DURATION] [--callback URL] [--tls] [--json] [--dir DIR]
                           [--no-device-flow]
       loopauth dev-server [--mcp] [--port N] [--expiring DURATION] [--json]
                           [--confidential-clients]
                           [--device-interval SECONDS] [--no-device-flow]

Flags:
${flagHelp(FLAGS)}

Examples:
  loopauth dev-server --port 8400
  loopauth dev-server --tls --port 443 --json --device-interval 1
  loopauth dev-server --mcp --port 8401`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "dev-server" });
    const port = portFlag(values);
    // SIGTERM (docker stop, a CI runner, kill) stops it as Ctrl-C does: its files go with it.
    const terminated = new AbortController();
    const onTerm = () => terminated.abort();
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", onTerm);
    const stopped = AbortSignal.any([signal, terminated.signal]);
    try {
      if (values.mcp) return await serveMcp(values, port, stopped);
      if (values["confidential-clients"]) {
        throw new LoopauthError("usage", "--confidential-clients goes with --mcp");
      }
      return await serve(values, port, stopped);
    } finally {
      if (Deno.build.os !== "windows") Deno.removeSignalListener("SIGTERM", onTerm);
    }
  },
};

/** Runs the provider with the flags' options until `signal` aborts. */
async function serve(
  values: Parsed<typeof FLAGS>["values"],
  port: number | undefined,
  signal: AbortSignal,
): Promise<number> {
  const options: DevProviderOptions = {
    port,
    autoApprove: values["auto-approve"] === true,
    clientId: values["client-id"],
    clientSecret: values["client-secret"],
    tls: values.tls === true,
    dir: values.dir ?? configDir(),
    signal,
  };
  if (values.user !== undefined) options.user = userFlag(values.user);
  if (values["scopes-granted"] !== undefined) {
    options.scopesGranted = scopesFlag(values["scopes-granted"]);
  }
  if (values["device-interval"] !== undefined) {
    options.deviceInterval = intervalFlag(values["device-interval"]);
  }
  if (values["no-device-flow"] === true) options.deviceFlowDisabled = true;
  if (values.expiring !== undefined) {
    const seconds = Math.round(parseDuration(values.expiring) / 1000);
    if (seconds < 1) {
      throw new LoopauthError(
        "usage",
        `Invalid --expiring "${
          terminalSafe(values.expiring, { max: 40 })
        }": tokens live at least 1s`,
      );
    }
    options.expiringTokens = { accessTtl: seconds, refreshTtl: REFRESH_TTL_S };
  }
  if (values.callback !== undefined) options.registeredCallback = callbackFlag(values.callback);

  const provider = start(options);
  try {
    if (values.json === true) {
      console.log(JSON.stringify({
        origin: provider.origin,
        apiUrl: provider.apiUrl,
        graphqlUrl: provider.graphqlUrl,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        repository: provider.repository.cloneUrl,
        ...(provider.caFile ? { caFile: provider.caFile } : {}),
      }));
    } else {
      console.log(`origin: ${provider.origin}`);
      console.log(`api url: ${provider.apiUrl}`);
      console.log(`client id: ${provider.clientId}`);
      console.log(`client secret: ${provider.clientSecret}`);
      console.log(`repository: ${provider.repository.cloneUrl}`);
      if (provider.caFile) console.log(`ca file: ${provider.caFile}`);
    }
    const ca = provider.caFile;
    if (ca) {
      // git built on gnutls (Debian's) ignores SSL_CERT_FILE: GIT_SSL_CAINFO is git's own.
      console.error(
        `Trust its CA: DENO_CERT=${ca} (loopauth, deno), GIT_SSL_CAINFO=${ca} (git), SSL_CERT_FILE=${ca} (gh, curl), NODE_EXTRA_CA_CERTS=${ca} (node)`,
      );
    }
    // A registered callback login's default would not match goes into the hint.
    const callback = options.registeredCallback;
    const redirect = callback !== undefined && callback !== "http://127.0.0.1/callback" &&
        loopbackRedirect(callback)
      ? ` --redirect-uri ${callback}`
      : "";
    // The secret in the environment: as an argument it is a warning (other users can read it).
    console.error(
      `Try: ${
        ca ? `DENO_CERT=${ca} ` : ""
      }LOOPAUTH_CLIENT_SECRET=${provider.clientSecret} loopauth login --hostname ${provider.origin} --client-id ${provider.clientId}${redirect}`,
    );
    console.error("Press Ctrl-C to stop");
    await new Promise((stop) => signal.addEventListener("abort", stop, { once: true }));
  } finally {
    await provider.close();
  }
  return 0;
}

/** `--mcp`: the built-in protected MCP server until `signal` aborts. */
async function serveMcp(
  values: Parsed<typeof FLAGS>["values"],
  port: number | undefined,
  signal: AbortSignal,
): Promise<number> {
  refuseFlags(values, [
    "auto-approve",
    "client-id",
    "client-secret",
    "user",
    "scopes-granted",
    "callback",
    "tls",
    "dir",
  ], {
    beside: "--mcp",
    why: "see loopauth help dev-server",
  });
  const accessTtl = values.expiring === undefined
    ? undefined
    : Math.max(1, Math.round(parseDuration(values.expiring) / 1000));
  const { startDevMcp } = await import("../dev/mcp.ts");
  let mcp;
  try {
    mcp = startDevMcp({
      port,
      signal,
      accessTtl,
      confidentialClients: values["confidential-clients"] === true,
      deviceFlow: values["no-device-flow"] !== true,
      ...(values["device-interval"] === undefined
        ? {}
        : { deviceInterval: intervalFlag(values["device-interval"]) }),
    });
  } catch (error) {
    throw listenError(error, port) ?? error;
  }
  try {
    if (values.json === true) console.log(JSON.stringify({ origin: mcp.origin, mcpUrl: mcp.url }));
    else {
      console.log(`origin: ${mcp.origin}`);
      console.log(`mcp url: ${mcp.url}`);
    }
    console.error(`Try: loopauth mcp-proxy ${mcp.url}`);
    console.error("Press Ctrl-C to stop");
    await new Promise((stop) => signal.addEventListener("abort", stop, { once: true }));
  } finally {
    await mcp.close().catch(() => {});
  }
  return 0;
}

/** Starts the provider; a port it cannot listen on is one clear error. */
function start(options: DevProviderOptions): DevProvider {
  try {
    return startDevProvider(options);
  } catch (error) {
    throw listenError(error, options.port) ?? error;
  }
}

function userFlag(login: string) {
  if (!isGitHubLogin(login)) {
    throw new LoopauthError(
      "usage",
      `Invalid --user "${
        terminalSafe(login, { max: 40 })
      }": a GitHub login is letters, digits and single hyphens, at most 39`,
    );
  }
  // A stable id per login, so that a restarted server knows the same user.
  let id = 0;
  for (const char of login.toLowerCase()) id = (id * 31 + char.charCodeAt(0)) % 90_000_000;
  return login === "octocat"
    ? { login, id: 583231, name: "The Octocat" }
    : { login, id: 10_000_000 + id, name: login };
}

function scopesFlag(text: string): string[] {
  const scopes = text.split(/[\s,]+/).filter(Boolean);
  const bad = scopes.find((scope) => !/^[A-Za-z0-9_:.-]+$/.test(scope));
  if (bad !== undefined) {
    throw new LoopauthError(
      "usage",
      `Invalid --scopes-granted: "${
        terminalSafe(bad, { max: 40 })
      }" is not a scope (e.g. repo,read:org)`,
    );
  }
  return scopes;
}

function intervalFlag(text: string): number {
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds > 3600) {
    throw new LoopauthError(
      "usage",
      `Invalid --device-interval "${
        terminalSafe(text, { max: 40 })
      }": use seconds from 0 to 3600, e.g. 1`,
    );
  }
  return seconds;
}

/** Whether `login --redirect-uri` takes `uri`. */
function loopbackRedirect(uri: string): boolean {
  try {
    parseRedirectUri(uri);
    return true;
  } catch {
    return false;
  }
}

function callbackFlag(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch { /* reported below */ }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.username) {
    throw new LoopauthError(
      "usage",
      `Invalid --callback "${
        terminalSafe(text, { max: 80 })
      }": give an http(s) URL such as http://127.0.0.1/callback`,
    );
  }
  return url.href;
}
