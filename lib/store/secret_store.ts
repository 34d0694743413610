/**
 * Where secrets live: the OS keyring when one works, else the loopauth agent
 * when one answers, else a plain-text file (with a warning). `--storage` /
 * `LOOPAUTH_STORAGE` force one of those or the encrypted file.
 *
 * The keyring, agent and encrypted stores load on first use, so that a
 * `token` reading the file evaluates none of their code.
 * @module
 */
import { type App, appEnv, LOOPAUTH_APP } from "../core/app.ts";
import { LoopauthError } from "../core/errors.ts";
import { agentSocketPath } from "./agent_paths.ts";
import { fileStore } from "./file.ts";
import { joinPath, STORE_FILES } from "./paths.ts";
import {
  agentLocation,
  keyringLocation,
  type Secrets,
  type SecretStore,
  STORAGE_NAMES,
  type StorageName,
} from "./secrets.ts";

/** Options of {@linkcode chooseStore} and {@linkcode openStore}. */
export interface StoreOptions {
  /** The config directory (for the file stores). */
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

/** The store {@linkcode chooseStore} picked. */
export interface ChosenStore {
  /** The store. */
  store: SecretStore;
  /** Why the keyring was not used, when another store was picked automatically. */
  fallbackReason?: string;
}

/**
 * Reads a `--storage` / `LOOPAUTH_STORAGE` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStorage } from "./secret_store.ts";
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
 * The store of a stored account.
 *
 * @example
 * ```ts ignore
 * import { openStore } from "./secret_store.ts";
 * const secrets = await openStore("file", { dir: "/tmp/loopauth" }).get("github.com", "octocat");
 * ```
 */
export function openStore(name: StorageName, options: StoreOptions): SecretStore {
  switch (name) {
    case "memory":
      return appStore(options.app);
    case "keyring":
      return lazyStore(
        name,
        keyringLocation(),
        async () =>
          (await import("./keyring.ts")).keyringStore({
            timeout: options.keyringTimeout,
            app: options.app,
            signal: options.signal,
          }),
      );
    case "agent": {
      const socket = options.agentSocket ?? agentSocketPath({ app: options.app });
      return lazyStore(
        name,
        agentLocation(socket),
        async () => (await import("./agent.ts")).agentStore({ socket }),
      );
    }
    case "encrypted":
      return lazyStore(
        name,
        joinPath(options.dir, STORE_FILES.encrypted),
        async () =>
          (await import("./encrypted.ts")).encryptedStore({
            dir: options.dir,
            env: appEnv(options.app ?? LOOPAUTH_APP),
          }),
      );
    default:
      return fileStore({ dir: options.dir });
  }
}

/** The store an app passed in (`AppOptions.secrets`) as a store. */
function appStore(app: App | undefined): SecretStore {
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

/** A store whose module `load` imports on its first call. */
function lazyStore(
  name: StorageName,
  location: string,
  load: () => Promise<SecretStore>,
): SecretStore {
  let loading: Promise<SecretStore> | undefined;
  const store = () => loading ??= load();
  return {
    name,
    location,
    get: async (host, login) => await (await store()).get(host, login),
    set: async (host, login, secrets) => await (await store()).set(host, login, secrets),
    delete: async (host, login) => await (await store()).delete(host, login),
  };
}

/**
 * Picks the store for a new login: the forced one, else the keyring when
 * it answers, else the agent when one answers, else the file (with the
 * reasons, for the warning). Forcing `keyring` where none works, or `agent`
 * where none answers, is a `storage` error; forcing `encrypted` asks for
 * the passphrase now (before the browser opens).
 *
 * @example
 * ```ts ignore
 * import { chooseStore } from "./secret_store.ts";
 * const { store, fallbackReason } = await chooseStore(undefined, { dir: "/tmp/loopauth" });
 * ```
 */
export async function chooseStore(
  preference: StorageName | undefined,
  options: StoreOptions,
): Promise<ChosenStore> {
  // An app that brings its own store (its tests) keeps every secret there.
  if (options.app?.secrets && (preference === undefined || preference === "memory")) {
    return { store: appStore(options.app) };
  }
  if (preference === "file") return { store: openStore("file", options) };
  if (preference === "encrypted") {
    const store = (await import("./encrypted.ts")).encryptedStore({
      dir: options.dir,
      env: appEnv(options.app ?? LOOPAUTH_APP),
    });
    await store.unlock();
    return { store };
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
    return { store: openStore("agent", { ...options, agentSocket: socket }) };
  }
  const probe = await (await import("./keyring.ts")).probeKeyring({
    timeout: options.keyringTimeout,
    app: options.app,
    signal: options.signal,
  });
  if (probe.ok) return { store: openStore("keyring", options) };
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
      store: openStore("agent", { ...options, agentSocket: agent.socket }),
      fallbackReason: probe.reason,
    };
  }
  return { store: openStore("file", options), fallbackReason: probe.reason };
}
