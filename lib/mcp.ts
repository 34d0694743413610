/**
 * loopauth for Deno MCP clients (the `./mcp` export, apart from `./mod.ts`
 * so that a program that never talks to an MCP server loads nothing of it):
 * {@linkcode mcpAuthProvider} is the MCP TypeScript SDK's
 * `OAuthClientProvider` backed by loopauth's login routes, stores and
 * locked refresh. Your program imports the SDK itself
 * (`npm:@modelcontextprotocol/sdk@1.32.2`); this module loads nothing of
 * it (its own types describe what the SDK reads; the provider is checked
 * against the SDK's interface when loopauth is type-checked).
 *
 * ```ts ignore
 * import { Client } from "npm:@modelcontextprotocol/sdk@1.32.2/client/index.js";
 * import { StreamableHTTPClientTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp.js";
 * import { mcpAuthProvider } from "./mcp.ts";
 *
 * const url = "https://mcp.example.com/mcp";
 * const client = new Client({ name: "my-agent", version: "1.0.0" });
 * await client.connect(
 *   new StreamableHTTPClientTransport(new URL(url), {
 *     authProvider: mcpAuthProvider(url, { app: "my-agent" }),
 *   }),
 * );
 * ```
 * @module
 */
export {
  type LoopauthMcpAuthProvider,
  mcpAuthProvider,
  type McpAuthProviderOptions,
  type McpClientInformation,
  type McpClientMetadata,
  type McpDiscoveryState,
  type McpTokens,
} from "./ops/mcp_provider.ts";
