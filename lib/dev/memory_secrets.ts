/**
 * A secrets store in memory, for an app's tests: pass it as the app's
 * `secrets` and no token of the test reaches the OS keyring, an agent or a
 * file (the accounts' other data stays in the config directory).
 * @module
 */
import type { AppSecretStore } from "../core/app.ts";

/** A {@linkcode AppSecretStore} in memory, with what it holds for your assertions. */
export interface MemorySecrets extends AppSecretStore {
  /** What it holds, by `HOST LOGIN`. */
  readonly items: Map<string, Record<string, unknown>>;
}

/**
 * A new, empty store in memory.
 *
 * @example
 * ```ts
 * import { memorySecrets } from "./memory_secrets.ts";
 * const secrets = memorySecrets();
 * const app = { name: "ghstars", secrets }; // login({ app, … }), getToken({ app, … })
 * console.log(secrets.items.size); // 0
 * ```
 */
export function memorySecrets(): MemorySecrets {
  const items = new Map<string, Record<string, unknown>>();
  const key = (host: string, login: string) => `${host} ${login}`;
  return {
    items,
    get: (host, login) => {
      const found = items.get(key(host, login));
      return Promise.resolve(found === undefined ? undefined : structuredClone(found));
    },
    set: (host, login, secrets) => {
      items.set(key(host, login), structuredClone(secrets));
      return Promise.resolve();
    },
    delete: (host, login) => Promise.resolve(items.delete(key(host, login))),
  };
}
