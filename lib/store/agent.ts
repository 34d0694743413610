/**
 * The loopauth agent as a secret store: each account's secrets are one
 * item in the agent's memory, never in a file. An agent that has gone away
 * is a `storage` error (exit 8) that says so; its secrets went with it.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { type AgentClientOptions, agentRequest, isAgentNotRunning } from "./agent_client.ts";
import { agentSocketPath } from "./agent_paths.ts";
import { itemName } from "./agent_protocol.ts";
import { agentLocation, type Secrets, type SecretStore } from "./secrets.ts";

/**
 * The agent at `socket` (default `$LOOPAUTH_AGENT`, else the default socket)
 * as a {@linkcode SecretStore}.
 *
 * @example
 * ```ts ignore
 * import { agentStore } from "./agent.ts";
 * const secrets = await agentStore().get("github.com", "octocat");
 * ```
 */
export function agentStore(options: AgentClientOptions = {}): SecretStore {
  const socket = options.socket ?? agentSocketPath();
  const ask = { ...options, socket };
  return {
    name: "agent",
    location: agentLocation(socket),
    async get(host, login) {
      const { value } = await agentRequest(
        { op: "get", item: itemName("secrets", host, login) },
        ask,
      );
      if (value === null || value === undefined) return undefined;
      if (typeof (value as Secrets).accessToken !== "string") {
        throw new LoopauthError(
          "storage",
          `The agent at ${socket} holds something else than loopauth secrets for ${login} on ${host}: log in again`,
        );
      }
      return value as Secrets;
    },
    async set(host, login, secrets) {
      await agentRequest(
        { op: "set", item: itemName("secrets", host, login), value: secrets },
        ask,
      );
    },
    async delete(host, login) {
      try {
        const { existed } = await agentRequest(
          { op: "delete", item: itemName("secrets", host, login) },
          ask,
        );
        return existed === true;
      } catch (error) {
        // An agent that is gone holds nothing any more.
        if (isAgentNotRunning(error)) return false;
        throw error;
      }
    },
  };
}
