/**
 * Where secrets live: the OS keyring when one works, else the loopauth agent
 * when one answers, else a plain-text file (with a warning). `--storage` /
 * `LOOPAUTH_STORAGE` force one of those or the encrypted file.
 *
 * The keyring, agent and encrypted backends load on first use, so that a
 * `token` reading the file evaluates none of their code.
 * @module
 */
import { type App, appEnv, LOOPAUTH_APP } from "../core/app.ts";
import { LoopauthError } from "../core/errors.ts";
import { agentSocketPath } from "./agent_paths.ts";
import { fileBackend } from "./file.ts";
import { joinPath, STORE_FILES } from "./paths.ts";
import {
  agentLocation,
  keyringLocation,
  type SecretBackend,
  type Secrets,
  STORAGE_NAMES,
  type StorageName,
} from "./secrets.ts";

/** Options of {@linkcode chooseBackend} and {@linkcode openBackend}. */
export interface BackendOptions {
  /** The config directory (for the file backends). */
  dir: string;
  /** Milliseconds a keyring call may take (default 10 s or `LOOPAUTH_KEYRING_TIMEOUT`). */
  keyringTimeout?: number;
  /** Aborting kills a keyring program still running. */
  signal?: AbortSignal;
  /** The agent's socket (default `$LOOPAUTH_AGENT`, else the default socket). */
  agentSocket?: string;
  /** The app whose secrets these are (default loopauth): its keyring service and agent. */
  app?: App;
}

/** The backend {@linkcode chooseBackend} picked. */
export interface ChosenBackend {
  /** The backend. */
  backend: SecretBackend;
  /** Why the keyring was not used, when another backend was picked automatically. */
  fallbackReason?: string;
}

/**
 * Reads a `--storage` / `LOOPAUTH_STORAGE` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStorage } from "./backend.ts";
 * assert.equal(parseStorage("keyring"), "keyring");
 * ```
 */
export function parseStorage(value: string | undefined): StorageName | undefined {
  if (value === undefined || value === "") return undefined;
  if ((STORAGE_NAMES as readonly string[]).includes(value)) return value as StorageName;
  throw new LoopauthError(
    "usage",
    `Invalid storage "${value}": use ${STORAGE_NAMES.slice(0, -1).join(", ")} or ${
      STORAGE_NAMES.at(-1)
    }`,
  );
}

/**
 * The backend of a stored account.
 *
 * @example
 * ```ts ignore
 * import { openBackend } from "./backend.ts";
 * const secrets = await openBackend("file", { dir: "/tmp/loopauth" }).get("github.com", "octocat");
 * ```
 */
export function openBackend(name: StorageName, options: BackendOptions): SecretBackend {
  switch (name) {
    case "memory":
      return appBackend(options.app);
    case "keyring":
      return lazyBackend(
        name,
        keyringLocation(),
        async () =>
          (await import("./keyring.ts")).keyringBackend({
            timeout: options.keyringTimeout,
            app: options.app,
            signal: options.signal,
          }),
      );
    case "agent": {
      const socket = options.agentSocket ?? agentSocketPath({ app: options.app });
      return lazyBackend(
        name,
        agentLocation(socket),
        async () => (await import("./agent.ts")).agentBackend({ socket }),
      );
    }
    case "encrypted":
      return lazyBackend(
        name,
        joinPath(options.dir, STORE_FILES.encrypted),
        async () =>
          (await import("./encrypted.ts")).encryptedBackend({
            dir: options.dir,
            env: appEnv(options.app ?? LOOPAUTH_APP),
          }),
      );
    default:
      return fileBackend({ dir: options.dir });
  }
}

/** The store an app passed in (`AppOptions.secrets`) as a backend. */
function appBackend(app: App | undefined): SecretBackend {
  const store = app?.secrets;
  if (!store) {
    // Its secrets lived in the memory of the program that logged in (a test), gone now.
    throw new LoopauthError(
      "not_logged_in",
      "This account's secrets were kept in memory by the program that logged in, and are gone: log in again",
    );
  }
  return {
    name: "memory",
    location: `${app.name}'s own store`,
    get: async (host, login) => await store.get(host, login) as Secrets | undefined,
    set: (host, login, secrets) => store.set(host, login, { ...secrets }),
    delete: (host, login) => store.delete(host, login),
  };
}

/** A backend whose module `load` imports on its first call. */
function lazyBackend(
  name: StorageName,
  location: string,
  load: () => Promise<SecretBackend>,
): SecretBackend {
  let loading: Promise<SecretBackend> | undefined;
  const backend = () => loading ??= load();
  return {
    name,
    location,
    get: async (host, login) => await (await backend()).get(host, login),
    set: async (host, login, secrets) => await (await backend()).set(host, login, secrets),
    delete: async (host, login) => await (await backend()).delete(host, login),
  };
}

/**
 * Picks the backend for a new login: the forced one, else the keyring when
 * it answers, else the agent when one answers, else the file (with the
 * reasons, for the warning). Forcing `keyring` where none works, or `agent`
 * where none answers, is a `storage` error; forcing `encrypted` asks for
 * the passphrase now (before the browser opens).
 *
 * @example
 * ```ts ignore
 * import { chooseBackend } from "./backend.ts";
 * const { backend, fallbackReason } = await chooseBackend(undefined, { dir: "/tmp/loopauth" });
 * ```
 */
export async function chooseBackend(
  preference: StorageName | undefined,
  options: BackendOptions,
): Promise<ChosenBackend> {
  // An app that brings its own store (its tests) keeps every secret there.
  if (options.app?.secrets && (preference === undefined || preference === "memory")) {
    return { backend: appBackend(options.app) };
  }
  if (preference === "file") return { backend: openBackend("file", options) };
  if (preference === "encrypted") {
    const backend = (await import("./encrypted.ts")).encryptedBackend({
      dir: options.dir,
      env: appEnv(options.app ?? LOOPAUTH_APP),
    });
    await backend.unlock();
    return { backend };
  }
  const { agentRequest, isAgentNotRunning, probeAgent } = await import("./agent_client.ts");
  if (preference === "agent") {
    const socket = options.agentSocket ?? agentSocketPath({ app: options.app });
    let forwarded = false;
    try {
      forwarded = (await agentRequest({ op: "status" }, { socket })).status?.forwarded !==
        undefined;
    } catch (error) {
      if (!isAgentNotRunning(error)) throw error;
      // An app has no `agent start` of loopauth's (nor its --storage): its way out names none.
      const cli = (options.app ?? LOOPAUTH_APP).name === LOOPAUTH_APP.name;
      throw new LoopauthError(
        "storage",
        cli
          ? `No loopauth agent is running at ${socket}: run loopauth agent start first, or use another --storage`
          : `No agent is running at ${socket}: start one at that socket first, or keep the token elsewhere`,
        { cause: error },
      );
    }
    // Refused before the browser opens: a forwarded key could not store the token.
    if (forwarded) {
      throw new LoopauthError(
        "storage",
        `The key of the agent at ${socket} is a forwarded, read-only key: log in on the machine the agent runs on, or use another --storage`,
      );
    }
    return { backend: openBackend("agent", { ...options, agentSocket: socket }) };
  }
  const probe = await (await import("./keyring.ts")).probeKeyring({
    timeout: options.keyringTimeout,
    app: options.app,
    signal: options.signal,
  });
  if (probe.ok) return { backend: openBackend("keyring", options) };
  if (preference === "keyring") {
    throw new LoopauthError(
      "storage",
      `No OS keyring is available (${probe.reason}): use --storage file to store the token in a file`,
    );
  }
  const agent = await probeAgent({
    socket: options.agentSocket ?? agentSocketPath({ app: options.app }),
  });
  if (agent.ok && agent.status.forwarded === undefined) {
    return {
      backend: openBackend("agent", { ...options, agentSocket: agent.socket }),
      fallbackReason: probe.reason,
    };
  }
  return { backend: openBackend("file", options), fallbackReason: probe.reason };
}
