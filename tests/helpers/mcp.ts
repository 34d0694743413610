/**
 * MCP clients and servers for tests: the SDK client built on `loopauth
 * mcp-proxy` (tests/fixtures/mcp_client.ts) with its permission flags, an
 * app's SDK client on `mcpAuthProvider` (tests/fixtures/mcp_app.ts), and
 * a scriptable protected MCP server with its authorization server on one
 * 127.0.0.1 port that records every request.
 * @module
 */
import { fileURLToPath } from "node:url";
import { appPermissionFlags, resolveApp } from "../../lib/mod.ts";
import { Cli, type CliOptions } from "./cli.ts";

/** The SDK client over mcp-proxy. */
export const MCP_CLIENT = fileURLToPath(new URL("../fixtures/mcp_client.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The `deno run` flags of {@linkcode MCP_CLIENT}: loopback, its variables
 * (the SDK's stdio transport reads HOME … USER, Node's spawn OSTYPE,
 * PATHEXT and NODE_V8_COVERAGE), the checkout, `tmp` and this Deno.
 */
export function mcpClientFlags(tmp: string): string[] {
  const env = [
    "MCP_CONFORMANCE_CONTEXT",
    "MCP_CONFORMANCE_SCENARIO",
    "MCP_CLIENT_ARGS",
    "MCP_PROXY_ENV",
    "MCP_CLIENT_CALLS",
    "MCP_CLIENT_TOOLS",
    "MCP_CLIENT_CONFIG_HOME",
    "MCP_CLIENT_ROUTE",
    "PATH",
    "DENO_DIR",
    "TMPDIR",
    "OSTYPE",
    "PATHEXT",
    "HOME",
    "LOGNAME",
    "SHELL",
    "TERM",
    "USER",
    "NODE_V8_COVERAGE",
  ];
  return [
    "--no-prompt",
    "--allow-net=localhost,127.0.0.1",
    `--allow-env=${env.join(",")}`,
    `--allow-read=${ROOT},${tmp}`,
    `--allow-write=${tmp}`,
    `--allow-run=${Deno.execPath()}`,
  ];
}

/** What a run of {@linkcode MCP_CLIENT} did. */
export interface McpClientRun {
  code: number;
  /** Its stdout: one JSON line per tool call result. */
  stdout: string;
  /** mcp-proxy's stderr lines (without the `mcp-proxy: ` prefix). */
  proxyLines: string[];
  /** The client's own stderr lines. */
  clientLines: string[];
}

/**
 * Runs the SDK client through mcp-proxy against `url` until it ends:
 * `calls` calls of its first tool, or the `tools` named; `args` more
 * mcp-proxy flags.
 */
export async function runMcpClient(
  url: string,
  options: {
    tmp: string;
    calls?: number;
    tools?: string[];
    args?: string[];
    env?: Record<string, string>;
    /** The route the user takes (`MCP_CLIENT_ROUTE`): `web` (default), `device`, `deny`. */
    route?: "web" | "device" | "deny";
  },
): Promise<McpClientRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...mcpClientFlags(options.tmp), MCP_CLIENT, url],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      TMPDIR: options.tmp,
      HOME: options.tmp,
      MCP_CLIENT_CALLS: String(options.calls ?? 1),
      MCP_CLIENT_ARGS: JSON.stringify(options.args ?? []),
      ...(options.tools ? { MCP_CLIENT_TOOLS: JSON.stringify(options.tools) } : {}),
      ...(options.route ? { MCP_CLIENT_ROUTE: options.route } : {}),
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr).split("\n").filter(Boolean);
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    proxyLines: stderr.filter((l) => l.startsWith("mcp-proxy: ")).map((l) => l.slice(11)),
    clientLines: stderr.filter((l) => !l.startsWith("mcp-proxy: ")),
  };
}

/** One request a {@linkcode serveMcp} server received. */
export interface McpRequest {
  method: string;
  path: string;
  /** The Authorization header, when there was one. */
  authorization?: string;
  /** The query (authorize) or form (token) fields. */
  fields: Record<string, string>;
  /** The JSON-RPC method of an MCP POST. */
  rpc?: string;
}

/** What a test may change of {@linkcode serveMcp}'s answers. */
export interface McpServerOptions {
  /** The protected resource metadata (default: this origin's /mcp and authorization server). */
  resourceMetadata?: (origin: string) => Record<string, unknown>;
  /** The authorization server metadata (default: this origin's endpoints, S256). */
  serverMetadata?: (origin: string) => Record<string, unknown>;
  /** Answers an MCP POST that carries a token (default: a tools server with one tool). */
  mcp?: (rpc: Record<string, unknown>, request: Request) => Response | undefined;
  /** Answers any request first, by path (e.g. an endpoint that fails); `undefined`: the default. */
  answer?: (path: string, origin: string) => Response | undefined;
}

/**
 * The RFC 8414 metadata a {@linkcode serveMcp} server publishes by default
 * (its own endpoints, S256), with `changes` made: a test's
 * {@linkcode McpServerOptions.serverMetadata} names only what it changes.
 */
export function serverMetadataOf(
  origin: string,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    code_challenge_methods_supported: ["S256"],
    ...changes,
  };
}

/** An RFC 8628 device authorization answer (code `dc-1`, user code `ABCD-EFGH`, 600 s). */
export function deviceAnswer(verificationUri: string, interval: number): Response {
  return Response.json({
    device_code: "dc-1",
    user_code: "ABCD-EFGH",
    verification_uri: verificationUri,
    expires_in: 600,
    interval,
  });
}

/**
 * A protected MCP resource at `ORIGIN/mcp` and its authorization server at
 * ORIGIN, on 127.0.0.1: resource metadata, RFC 8414 metadata, registration,
 * an authorization endpoint that approves at once, a token endpoint, and a
 * JSON-RPC tools server that wants a bearer token.
 */
export function serveMcp(options: McpServerOptions = {}) {
  const requests: McpRequest[] = [];
  let origin = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const body = request.method === "POST" ? await request.text() : "";
    const fields = request.method === "GET"
      ? Object.fromEntries(url.searchParams)
      : /^application\/x-www-form-urlencoded/.test(request.headers.get("content-type") ?? "")
      ? Object.fromEntries(new URLSearchParams(body))
      : {};
    const rpc = url.pathname === "/mcp" && body ? JSON.parse(body) : undefined;
    requests.push({
      method: request.method,
      path: url.pathname,
      fields,
      ...(request.headers.get("authorization")
        ? { authorization: request.headers.get("authorization")! }
        : {}),
      ...(rpc?.method ? { rpc: rpc.method } : {}),
    });
    const answered = options.answer?.(url.pathname, origin);
    if (answered) return answered;
    switch (url.pathname) {
      case "/.well-known/oauth-protected-resource/mcp":
        return Response.json(
          options.resourceMetadata?.(origin) ??
            { resource: `${origin}/mcp`, authorization_servers: [origin] },
        );
      case "/.well-known/oauth-authorization-server":
        return Response.json(
          options.serverMetadata?.(origin) ?? serverMetadataOf(origin),
        );
      case "/register":
        return Response.json({ client_id: "hostile-client" }, { status: 201 });
      case "/authorize": {
        const back = new URL(fields.redirect_uri);
        back.searchParams.set("code", "code-1");
        back.searchParams.set("state", fields.state);
        return Response.redirect(back, 302);
      }
      case "/token":
        return Response.json({ access_token: "tok-secret-1", token_type: "Bearer" });
      case "/mcp": {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        if (!request.headers.get("authorization")) {
          return new Response(null, {
            status: 401,
            headers: {
              "www-authenticate":
                `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
            },
          });
        }
        return options.mcp?.(rpc, request) ?? toolsAnswer(rpc);
      }
    }
    return new Response("not found", { status: 404 });
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    url: `${origin}/mcp`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A JSON-RPC answer of a tools server with one tool `echo`. */
export function toolsAnswer(rpc: Record<string, unknown>): Response {
  if (rpc.id === undefined) return new Response(null, { status: 202 });
  const result = rpc.method === "initialize"
    ? {
      protocolVersion: (rpc.params as { protocolVersion: string }).protocolVersion,
      capabilities: { tools: {} },
      serverInfo: { name: "test", version: "1.0.0" },
    }
    : rpc.method === "tools/list"
    ? { tools: [{ name: "echo", inputSchema: { type: "object" } }] }
    : { content: [{ type: "text", text: "ok" }] };
  return Response.json({ jsonrpc: "2.0", id: rpc.id, result });
}

/** An app's MCP client on the library's `./mcp` export (tests/fixtures/mcp_app.ts). */
const MCP_APP = fileURLToPath(new URL("../fixtures/mcp_app.ts", import.meta.url));
const OPEN = /^Open (http\S+)$/;

/** How to run the app `name`'s MCP client ({@linkcode MCP_APP}): the app's documented flags. */
export function mcpAppOptions(
  name: string,
  configHome: string,
  env: Record<string, string> = {},
): CliOptions {
  const flags = appPermissionFlags(resolveApp(name), {
    configDir: `${configHome}/${name}`,
    hosts: [],
  });
  return {
    configHome,
    env,
    command: [Deno.execPath(), "run", "--no-prompt", ...flags, MCP_APP, name],
  };
}

/**
 * Runs the app's MCP client calling `tools` until it ends; the test plays the user: it fetches
 * every authorization URL the app prints (the servers used approve at once).
 */
export async function runMcpApp(url: string, tools: string[], options: CliOptions) {
  const cli = new Cli([url, ...tools], options);
  let approved = 0;
  let finished = false;
  const user = (async () => {
    while (!finished) {
      const urls = cli.stderrLines.flatMap((l) => OPEN.exec(l)?.[1] ?? []);
      for (const link of urls.slice(approved)) {
        approved++;
        const response = await fetch(link);
        await response.body?.cancel();
      }
      await new Promise((wake) => setTimeout(wake, 20));
    }
  })();
  const out = await cli.output();
  finished = true;
  await user;
  const results = out.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return { ...out, approved, results };
}
