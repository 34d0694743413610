/**
 * The built-in protected MCP server (`dev-server --mcp`): an offline MCP
 * resource at `ORIGIN/mcp` (a tiny tools server on the official SDK's
 * server APIs) and its authorization server at ORIGIN, for MCP client
 * authors' CI. It has what the MCP authorization spec (2025-11-25) asks a
 * client to handle: RFC 9728 resource metadata and `401` challenges, RFC
 * 8414 metadata, client ID metadata documents, RFC 7591 registration, PKCE
 * S256 only, `iss` in the callback, the RFC 8707 resource enforced,
 * per-tool scopes with `403 insufficient_scope` challenges, rotating
 * refresh tokens and RFC 7009 revocation, and the RFC 8628 device grant
 * (the dev provider's, `dev/device.ts`; off with `deviceFlow: false`). It
 * approves every browser authorization at once (there is no user to ask);
 * a device code is approved on its `/login/device` page, as the dev
 * provider's (`approveDeviceCode`).
 * @module
 */
import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/webStandardStreamableHttp.js";
import { isLoopbackHost } from "../core/loopback.ts";
import { allowedHosts, isAllowedHost } from "./hosts.ts";
import { MAX_BODY_BYTES, readBody } from "./limits.ts";
import { randomToken, safeJson } from "./responses.ts";
import { deviceEndpoints } from "./device.ts";
import { formTokens } from "./form_tokens.ts";
import { DEVICE_GRANT_TYPE } from "../core/types.ts";

/** The scope every MCP request needs. */
export const MCP_BASE_SCOPE = "mcp:tools";
/** The scope the `write` tool needs on top (a step-up). */
export const MCP_WRITE_SCOPE = "mcp:write";
/** The scope the `forbidden` tool needs, which the server never grants. */
export const MCP_NEVER_SCOPE = "mcp:forbidden";

/** Options of {@linkcode startDevMcp}. */
export interface DevMcpOptions {
  /** Listen on 127.0.0.1:port (default: a free one). */
  port?: number;
  /** Seconds an access token lives (default 3600). */
  accessTtl?: number;
  /** Seconds an access token from a refresh lives (default: `accessTtl`). */
  refreshedTtl?: number;
  /**
   * Confidential registrations only: the metadata lists no `none`, and every
   * registered client gets a `client_secret` (default false: public clients
   * are allowed).
   */
  confidentialClients?: boolean;
  /**
   * Seconds a registered client's secret lives (RFC 7591
   * `client_secret_expires_at`; default: it never expires, `0`). The token
   * endpoint refuses an expired secret with `invalid_client`.
   */
  clientSecretTtl?: number;
  /**
   * Offer the device grant (RFC 8628: `device_authorization_endpoint`, the
   * grant in `grant_types_supported`); default true. `false` leaves the
   * browser route alone.
   */
  deviceFlow?: boolean;
  /** Seconds between device-grant polls (default 5). */
  deviceInterval?: number;
  /** Seconds a device code lives (default 900). */
  deviceExpiresIn?: number;
  /** Aborting stops it. */
  signal?: AbortSignal;
}

/** One request the server received (no body: tokens and codes stay out of the log). */
export interface DevMcpRequest {
  /** The HTTP method. */
  method: string;
  /** The path, without the query. */
  path: string;
  /**
   * The fields of an authorization, token or device request, secrets (code,
   * verifier, tokens, device and user codes) removed; a registration's
   * `grant_types`, space-separated.
   */
  fields: Record<string, string>;
  /** The JSON-RPC method of an MCP request. */
  rpc?: string;
  /** The tool of a `tools/call`. */
  tool?: string;
  /**
   * How a token, device or revocation request authenticated its client: a
   * Basic header (`client_secret_basic`), a `client_secret` field
   * (`client_secret_post`), or a `client_id` alone (`none`).
   */
  clientAuth?: "client_secret_basic" | "client_secret_post" | "none";
  /** The status of the answer. */
  status?: number;
}

/** A running {@linkcode startDevMcp}. */
export interface DevMcp {
  /** `http://127.0.0.1:PORT`: the authorization server's issuer. */
  origin: string;
  /** The MCP endpoint, `ORIGIN/mcp`: the resource. */
  url: string;
  /** Every request, in order (the last 1,000). */
  requests: DevMcpRequest[];
  /** Makes every access token issued so far invalid (its refresh token still works). */
  expireAccessTokens(): void;
  /** Gives every registered confidential client a new secret: the old one is `invalid_client`. */
  changeClientSecrets(): void;
  /** The secrets of the confidential clients registered so far (for tests: where they must not be). */
  clientSecrets(): string[];
  /** Stops it. */
  close(): Promise<void>;
}

interface Client {
  redirectUris: string[];
  /** The grants it registered for (RFC 7591's default: `authorization_code`). */
  grantTypes: string[];
  secret?: string;
  /** Milliseconds since the epoch when the secret expires (absent: never). */
  secretExpires?: number;
  method: "none" | "client_secret_basic" | "client_secret_post";
}
interface Grant {
  clientId: string;
  scopes: string[];
  resource: string;
}
interface Code extends Grant {
  challenge: string;
  redirectUri: string;
  expires: number;
}

/** The endpoints where a client authenticates (their log entries say how). */
const CLIENT_PATHS = ["/token", "/device_authorization", "/revoke"];

/** The fields never kept in the request log. */
const SECRET_FIELDS = [
  "code",
  "code_verifier",
  "refresh_token",
  "client_secret",
  "token",
  "state",
  "device_code",
  "user_code",
  "csrf",
];

/**
 * Starts the built-in protected MCP server on 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * import { startDevMcp } from "./mcp.ts";
 * const mcp = startDevMcp();
 * console.log(`loopauth mcp-proxy ${mcp.url}`);
 * await mcp.close();
 * ```
 */
export function startDevMcp(options: DevMcpOptions = {}): DevMcp {
  const clients = new Map<string, Client>();
  const codes = new Map<string, Code>();
  const access = new Map<string, Grant & { expires: number }>();
  const refresh = new Map<string, Grant>();
  const ttl = options.accessTtl ?? 3600;
  const refreshedTtl = options.refreshedTtl ?? ttl;
  let origin = "";
  let hosts = new Set<string>();
  const requests: DevMcpRequest[] = [];
  const resource = () => `${origin}/mcp`;
  const metadataUrl = () => `${origin}/.well-known/oauth-protected-resource/mcp`;

  const oauthError = (error: string, description: string, status = 400) =>
    Response.json({ error, error_description: description }, {
      status,
      headers: { "cache-control": "no-store" },
    });

  const clientOf = async (id: string): Promise<Client | undefined> => {
    const known = clients.get(id);
    if (known) return known;
    // A client ID metadata document: fetched from the client id itself (https, or http on
    // this machine: the server is offline), its client_id must be that URL.
    let url: URL;
    try {
      url = new URL(id);
    } catch {
      return undefined;
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
      return undefined;
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: "error" });
      const document = safeJson(await response.text());
      const uris = document.redirect_uris;
      if (!response.ok || document.client_id !== id || !Array.isArray(uris)) return undefined;
      return {
        redirectUris: uris.filter((u) => typeof u === "string"),
        grantTypes: grantTypes(document.grant_types),
        method: "none",
      };
    } catch {
      return undefined;
    }
  };

  const redirectAllowed = (client: Client, uri: string) =>
    client.redirectUris.some((registered) => {
      if (registered === uri) return true;
      // RFC 8252 §7.3: a loopback redirect URI may use any port.
      try {
        const [a, b] = [new URL(registered), new URL(uri)];
        return a.protocol === "http:" && isLoopbackHost(a.hostname) &&
          a.hostname === b.hostname && a.pathname === b.pathname && b.protocol === "http:";
      } catch {
        return false;
      }
    });

  const authenticate = (request: Request, form: URLSearchParams) => {
    const header = request.headers.get("authorization");
    let id = form.get("client_id") ?? "";
    let secret = form.get("client_secret") ?? undefined;
    if (header?.startsWith("Basic ")) {
      const [user, pass] = atob(header.slice(6)).split(":");
      id = decodeURIComponent(user.replace(/\+/g, " "));
      secret = decodeURIComponent((pass ?? "").replace(/\+/g, " "));
    }
    return { id, secret };
  };

  const tokenAnswer = (grant: Grant, lifetime = ttl) => {
    const token = randomToken("mcp_", 40);
    const refreshToken = randomToken("mcpr_", 40);
    access.set(token, { ...grant, expires: Date.now() + lifetime * 1000 });
    refresh.set(refreshToken, grant);
    return {
      access_token: token,
      token_type: "Bearer",
      expires_in: lifetime,
      refresh_token: refreshToken,
      scope: grant.scopes.join(" "),
    };
  };
  const issue = (grant: Grant, lifetime = ttl) =>
    Response.json(tokenAnswer(grant, lifetime), { headers: { "cache-control": "no-store" } });

  // The client each device request was authenticated as (before the device endpoints see it).
  const authenticated = new WeakMap<Request, string>();
  const forms = formTokens();
  // Its origin is known once the server listens.
  const deviceHost = { origin: "", deviceFlowDisabled: false, forceSlowDown: 0 };
  const device = options.deviceFlow === false ? undefined : deviceEndpoints(
    deviceHost,
    {
      interval: options.deviceInterval ?? 5,
      expiresIn: options.deviceExpiresIn ?? 900,
      slowDownIncrement: 5,
      complete: false,
      forms,
      appName: () => "an MCP client",
      client: (request) => Promise.resolve(authenticated.get(request)),
      unknownClient: "invalid_client",
      issue: (scopes, asked) =>
        tokenAnswer({
          clientId: asked.clientId,
          scopes: grantable(scopes),
          resource: asked.params.get("resource") ?? resource(),
        }),
    },
  );
  /**
   * The client of a token or device request, its secret checked (and not
   * expired); `undefined` when refused.
   */
  const authenticatedClient = async (request: Request, form: URLSearchParams) => {
    const { id, secret } = authenticate(request, form);
    const client = await clientOf(id);
    if (
      !client || (client.secret !== undefined && client.secret !== secret) ||
      (client.secretExpires !== undefined && client.secretExpires <= Date.now())
    ) return undefined;
    return { id, client };
  };

  const challenge = (status: 401 | 403, scopes: string[], error?: string) =>
    new Response(
      JSON.stringify({ error: error ?? "invalid_token" }),
      {
        status,
        headers: {
          "content-type": "application/json",
          "www-authenticate": `Bearer ${error ? `error="${error}", ` : ""}scope="${
            scopes.join(" ")
          }", resource_metadata="${metadataUrl()}"`,
        },
      },
    );

  /** The tools server: a new stateless SDK server per request. */
  const tools = async (request: Request, body: string) => {
    const server = new McpServer({ name: "loopauth-dev-mcp", version: "1.0.0" });
    server.registerTool("echo", {
      description: "Returns its text",
      inputSchema: {},
    }, () => ({ content: [{ type: "text", text: "echo" }] }));
    server.registerTool("write", {
      description: `Needs ${MCP_WRITE_SCOPE} (a step-up)`,
      inputSchema: {},
    }, () => ({ content: [{ type: "text", text: "written" }] }));
    server.registerTool("forbidden", {
      description: `Needs ${MCP_NEVER_SCOPE}, which is never granted`,
      inputSchema: {},
    }, () => ({ content: [{ type: "text", text: "never" }] }));
    server.registerTool("expire", {
      description: "Makes every access token invalid (a refresh brings a new one)",
      inputSchema: {},
    }, () => {
      for (const grant of access.values()) grant.expires = 0;
      return { content: [{ type: "text", text: "expired" }] };
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    const replay = new Request(request.url, { method: "POST", headers: request.headers, body });
    return await transport.handleRequest(replay);
  };

  const handle = async (
    request: Request,
    body: string,
    entry: DevMcpRequest,
  ): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (request.method === "GET" && path === "/.well-known/oauth-protected-resource/mcp") {
      return Response.json({
        resource: resource(),
        authorization_servers: [origin],
        scopes_supported: [MCP_BASE_SCOPE, MCP_WRITE_SCOPE],
        bearer_methods_supported: ["header"],
      });
    }
    if (request.method === "GET" && path === "/.well-known/oauth-authorization-server") {
      return Response.json({
        issuer: origin,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        registration_endpoint: `${origin}/register`,
        revocation_endpoint: `${origin}/revoke`,
        ...(device ? { device_authorization_endpoint: `${origin}/device_authorization` } : {}),
        response_types_supported: ["code"],
        grant_types_supported: [
          "authorization_code",
          "refresh_token",
          ...(device ? [DEVICE_GRANT_TYPE] : []),
        ],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: [
          ...(options.confidentialClients ? [] : ["none"]),
          "client_secret_basic",
          "client_secret_post",
        ],
        scopes_supported: [MCP_BASE_SCOPE, MCP_WRITE_SCOPE, MCP_NEVER_SCOPE],
        client_id_metadata_document_supported: true,
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (request.method === "POST" && path === "/register") {
      const asked = safeJson(body);
      const uris = asked.redirect_uris;
      if (
        !Array.isArray(uris) || uris.length === 0 ||
        !uris.every((u) =>
          typeof u === "string" && /^(https:|http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/])/.test(u)
        )
      ) {
        return oauthError("invalid_redirect_uri", "Redirect URIs must be https or loopback http");
      }
      const method = asked.token_endpoint_auth_method === "client_secret_basic" ||
          asked.token_endpoint_auth_method === "client_secret_post"
        ? asked.token_endpoint_auth_method
        : options.confidentialClients
        ? "client_secret_basic"
        : "none";
      const id = randomToken("mcp-client-", 16);
      const expires = options.clientSecretTtl === undefined
        ? undefined
        : Math.floor(Date.now() / 1000) + options.clientSecretTtl;
      const client: Client = {
        redirectUris: uris,
        grantTypes: grantTypes(asked.grant_types),
        method,
        ...(method === "none" ? {} : {
          secret: randomToken("mcps_", 32),
          ...(expires === undefined ? {} : { secretExpires: expires * 1000 }),
        }),
      };
      clients.set(id, client);
      return Response.json({
        client_id: id,
        ...(client.secret
          ? { client_secret: client.secret, client_secret_expires_at: expires ?? 0 }
          : {}),
        token_endpoint_auth_method: method,
        redirect_uris: uris,
        client_name: typeof asked.client_name === "string" ? asked.client_name : "client",
      }, { status: 201 });
    }
    if (request.method === "GET" && path === "/authorize") {
      const q = url.searchParams;
      const id = q.get("client_id") ?? "";
      const redirectUri = q.get("redirect_uri") ?? "";
      const client = await clientOf(id);
      if (!client || !redirectAllowed(client, redirectUri)) {
        // Never redirected: an unknown client or redirect URI gets a page, not a code.
        return new Response("Unknown client or redirect URI", { status: 400 });
      }
      const back = new URL(redirectUri);
      const fail = (error: string) => {
        back.searchParams.set("error", error);
        if (q.get("state")) back.searchParams.set("state", q.get("state")!);
        back.searchParams.set("iss", origin);
        return Response.redirect(back, 302);
      };
      if (q.get("response_type") !== "code") return fail("unsupported_response_type");
      if (q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
        return fail("invalid_request");
      }
      const target = q.get("resource") ?? resource();
      if (target !== resource()) return fail("invalid_target");
      const scopes = grantable((q.get("scope") ?? MCP_BASE_SCOPE).split(" ").filter(Boolean));
      const code = randomToken("mcpc_", 32);
      codes.set(code, {
        clientId: id,
        scopes,
        resource: target,
        challenge: q.get("code_challenge")!,
        redirectUri,
        expires: Date.now() + 600_000,
      });
      back.searchParams.set("code", code);
      if (q.get("state")) back.searchParams.set("state", q.get("state")!);
      back.searchParams.set("iss", origin);
      return Response.redirect(back, 302);
    }
    if (request.method === "POST" && path === "/device_authorization" && device) {
      const form = new URLSearchParams(body);
      const found = await authenticatedClient(request, form);
      if (!found) {
        return oauthError("invalid_client", "Unknown client, wrong or expired secret", 401);
      }
      if (!found.client.grantTypes.includes(DEVICE_GRANT_TYPE)) {
        return oauthError("unauthorized_client", "The client did not register the device grant");
      }
      const target = form.get("resource");
      if (target !== null && target !== resource()) {
        return oauthError("invalid_target", "This server issues tokens for its /mcp only");
      }
      // RFC 8628 answers JSON whatever Accept says (GitHub's variant answers a form without it).
      const headers = new Headers(request.headers);
      headers.set("accept", "application/json");
      const asked = new Request(request.url, { method: "POST", headers });
      authenticated.set(asked, found.id);
      return await device.code(asked, body);
    }
    if (path === "/login/device" && device) {
      if (request.method === "GET") return device.page(url);
      if (request.method === "POST") return device.decide(body);
    }
    if (request.method === "POST" && path === "/token") {
      const form = new URLSearchParams(body);
      const found = await authenticatedClient(request, form);
      if (!found) {
        return oauthError("invalid_client", "Unknown client, wrong or expired secret", 401);
      }
      const id = found.id;
      const target = form.get("resource");
      if (target !== null && target !== resource()) {
        return oauthError("invalid_target", "This server issues tokens for its /mcp only");
      }
      if (form.get("grant_type") === DEVICE_GRANT_TYPE && device) {
        authenticated.set(request, id);
        const answer = await device.poll(request, form);
        if (typeof answer.error === "string") {
          return oauthError(answer.error, String(answer.error_description ?? ""));
        }
        return Response.json(answer, { headers: { "cache-control": "no-store" } });
      }
      if (form.get("grant_type") === "authorization_code") {
        const code = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? "");
        if (!code || code.clientId !== id || code.expires < Date.now()) {
          return oauthError("invalid_grant", "Unknown, used or expired code");
        }
        const verifier = form.get("code_verifier") ?? "";
        const digest = new Uint8Array(
          await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)),
        );
        const computed = btoa(String.fromCharCode(...digest)).replace(/\+/g, "-")
          .replace(/\//g, "_").replace(/=+$/, "");
        if (computed !== code.challenge || form.get("redirect_uri") !== code.redirectUri) {
          return oauthError("invalid_grant", "PKCE verifier or redirect URI does not match");
        }
        return issue(code);
      }
      if (form.get("grant_type") === "refresh_token") {
        const token = form.get("refresh_token") ?? "";
        const grant = refresh.get(token);
        // Rotating: a refresh token is spent once.
        refresh.delete(token);
        if (!grant || grant.clientId !== id) {
          return oauthError("invalid_grant", "Unknown or spent refresh token");
        }
        return issue(grant, refreshedTtl);
      }
      return oauthError("unsupported_grant_type", "authorization_code or refresh_token");
    }
    if (request.method === "POST" && path === "/revoke") {
      const form = new URLSearchParams(body);
      // RFC 7009 §2.1: the client authenticates as at the token endpoint, and may revoke only
      // its own tokens; an unknown token is answered 200 (§2.2).
      const caller = await authenticatedClient(request, form);
      if (!caller) {
        return oauthError("invalid_client", "Unknown client, wrong or expired secret", 401);
      }
      const token = form.get("token") ?? "";
      const grant = access.get(token) ?? refresh.get(token);
      if (grant && grant.clientId !== caller.id) {
        return oauthError("unauthorized_client", "This token was not issued to this client");
      }
      access.delete(token);
      refresh.delete(token);
      return new Response(null, { status: 200 });
    }
    if (path === "/mcp") {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const rpc = safeJson(body);
      if (typeof rpc.method === "string") entry.rpc = rpc.method;
      const params = rpc.params as { name?: unknown } | undefined;
      if (rpc.method === "tools/call" && typeof params?.name === "string") entry.tool = params.name;
      const header = request.headers.get("authorization") ?? "";
      const grant = header.startsWith("Bearer ") ? access.get(header.slice(7)) : undefined;
      if (!grant || grant.expires <= Date.now() || grant.resource !== resource()) {
        return challenge(401, [MCP_BASE_SCOPE], header ? "invalid_token" : undefined);
      }
      const needed = entry.tool === "write"
        ? [MCP_BASE_SCOPE, MCP_WRITE_SCOPE]
        : entry.tool === "forbidden"
        ? [MCP_BASE_SCOPE, MCP_NEVER_SCOPE]
        : [MCP_BASE_SCOPE];
      if (!needed.every((s) => grant.scopes.includes(s))) {
        return challenge(403, needed, "insufficient_scope");
      }
      return await tools(request, body);
    }
    return new Response("not found", { status: 404 });
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    signal: options.signal,
    onListen: () => {},
  }, async (request) => {
    const url = new URL(request.url);
    // DNS rebinding: refused before anything is read or recorded.
    if (!isAllowedHost(request, hosts)) return new Response("misdirected", { status: 421 });
    const bytes = await readBody(request, MAX_BODY_BYTES);
    if (!bytes) return new Response("too large", { status: 413 });
    const body = new TextDecoder().decode(bytes);
    const fields = Object.fromEntries(
      request.method === "GET" ? url.searchParams : new URLSearchParams(
        /urlencoded/.test(request.headers.get("content-type") ?? "") ? body : "",
      ),
    );
    for (const name of SECRET_FIELDS) if (name in fields) fields[name] = "…";
    // A registration's grants (its JSON body), for a client author's test to see.
    const grants = url.pathname === "/register" ? safeJson(body).grant_types : undefined;
    if (Array.isArray(grants)) fields.grant_types = grants.map(String).join(" ");
    const entry: DevMcpRequest = { method: request.method, path: url.pathname, fields };
    if (CLIENT_PATHS.includes(url.pathname) && request.method === "POST") {
      entry.clientAuth = request.headers.get("authorization")?.startsWith("Basic ")
        ? "client_secret_basic"
        : "client_secret" in fields
        ? "client_secret_post"
        : "none";
    }
    requests.push(entry);
    if (requests.length > 1000) requests.shift();
    const response = await handle(request, body, entry);
    entry.status = response.status;
    return response;
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  deviceHost.origin = origin;
  hosts = allowedHosts(origin);
  return {
    origin,
    url: resource(),
    requests,
    expireAccessTokens: () => {
      for (const grant of access.values()) grant.expires = 0;
    },
    changeClientSecrets: () => {
      for (const client of clients.values()) {
        if (client.secret) client.secret = randomToken("mcps_", 32);
      }
    },
    clientSecrets: () => [...clients.values()].flatMap((client) => client.secret ?? []),
    close: async () => {
      await server.shutdown();
    },
  };
}

/** The grants a registration or client ID metadata document names (RFC 7591's default). */
function grantTypes(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((g) => typeof g === "string") : ["authorization_code"];
}

/** The scopes granted of those asked for: never the forbidden one; the base scope when none. */
function grantable(asked: string[]): string[] {
  const scopes = asked.filter((s) => s !== MCP_NEVER_SCOPE);
  return scopes.length ? scopes : [MCP_BASE_SCOPE];
}
