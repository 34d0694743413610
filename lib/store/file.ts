/**
 * Files written safely: mode 0600 inside a 0700 directory, replaced
 * atomically (temp file, fsync, rename) so a crash leaves the old file or the
 * new one, never a part (a complete temp file a crash left before the rename
 * is recovered by ./recovery.ts). Also the plain-text secret store used when no OS
 * keyring is available.
 *
 * The store's file calls are synchronous, except fsync: each is quick on a
 * local disk, where an asynchronous one is a round trip through Deno's thread
 * pool, and a login makes dozens (docs/performance.md). fsync can be slow, so
 * it stays off the event loop.
 * @module
 */
import { isRecord } from "../core/json.ts";
import { LoopauthError } from "../core/errors.ts";
import type { Secrets, SecretStore } from "./secrets.ts";
import { joinPath, parentDir, STORE_FILES } from "./paths.ts";

/** Options shared by the file store's functions. */
export interface FileStoreOptions {
  /** Directory of the store: the config directory (`configDir()` in ./paths.ts) or a test's. */
  dir: string;
}

/**
 * The path of the plain-text secrets file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretsFilePath } from "./file.ts";
 * assert.equal(secretsFilePath({ dir: "/tmp/loopauth" }), "/tmp/loopauth/tokens.json");
 * ```
 */
export function secretsFilePath(options: FileStoreOptions): string {
  return joinPath(options.dir, STORE_FILES.secrets);
}

type SecretsFile = Record<string, Record<string, Secrets>>;

/**
 * Whether parsed JSON is a whole secrets file: `{ version: 1, hosts }` with
 * an access token for every account.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSecretsFile } from "./file.ts";
 * const file = { version: 1, hosts: { "github.com": { octocat: { accessToken: "gho_…" } } } };
 * assert.equal(isSecretsFile(file), true);
 * ```
 */
export function isSecretsFile(data: unknown): boolean {
  return isRecord(data) && data.version === 1 && isRecord(data.hosts) &&
    Object.values(data.hosts).every((accounts) =>
      isRecord(accounts) &&
      Object.values(accounts).every((s) => isRecord(s) && typeof s.accessToken === "string")
    );
}

/**
 * The secret store that keeps tokens in `tokens.json` (plain text, 0600).
 *
 * @example
 * ```ts ignore
 * import { fileStore } from "./file.ts";
 * const store = fileStore({ dir: "/tmp/loopauth" });
 * await store.set("github.com", "octocat", { accessToken: "gho_…" });
 * ```
 */
export function fileStore(options: FileStoreOptions): SecretStore {
  const path = secretsFilePath(options);
  const read = (): SecretsFile => {
    const data = readJsonFile(path, "loopauth tokens file", {
      valid: ({ hosts }) => isRecord(hosts) && Object.values(hosts).every(isRecord),
    });
    return (data?.hosts ?? {}) as SecretsFile;
  };
  const write = (hosts: SecretsFile) =>
    writeFileAtomic(path, `${JSON.stringify({ version: 1, hosts }, null, 2)}\n`);
  return {
    name: "file",
    location: path,
    get: (host, login) =>
      Promise.try(() => {
        const hosts = read();
        const secrets = Object.hasOwn(hosts, host) && Object.hasOwn(hosts[host], login)
          ? hosts[host][login]
          : undefined;
        if (secrets !== undefined && typeof secrets?.accessToken !== "string") {
          throw corrupted(path, "loopauth tokens file");
        }
        return secrets;
      }),
    async set(host, login, secrets) {
      const hosts = read();
      if (!Object.hasOwn(hosts, host)) hosts[host] = {};
      hosts[host][login] = secrets;
      await write(hosts);
    },
    async delete(host, login) {
      const hosts = read();
      if (!Object.hasOwn(hosts, host) || !Object.hasOwn(hosts[host], login)) return false;
      delete hosts[host][login];
      if (Object.keys(hosts[host]).length === 0) delete hosts[host];
      await write(hosts);
      return true;
    },
  };
}

/**
 * Reads and parses a JSON object; `undefined` when the file does not exist,
 * a `storage` error naming the file when it cannot be read, and when it
 * cannot be parsed or `valid` refuses it (`invalid`'s error, if given).
 *
 * @example
 * ```ts ignore
 * import { readJsonFile } from "./file.ts";
 * const data = readJsonFile("/tmp/loopauth/config.json", "loopauth config file");
 * ```
 */
export function readJsonFile(
  path: string,
  what: string,
  options: {
    valid?: (data: Record<string, unknown>) => boolean;
    invalid?: () => Error;
  } = {},
): Record<string, unknown> | undefined {
  const refused = () => options.invalid?.() ?? corrupted(path, what);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw storageError(error, `Cannot read ${path}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Without its SyntaxError as cause: that quotes the text, which may hold tokens.
    throw refused();
  }
  if (!isRecord(data) || (options.valid && !options.valid(data))) throw refused();
  return data;
}

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /**
   * Replace the file only once this settles fine: the new content is written
   * and synced meanwhile, so two files cost one wait, not two; a rejection is
   * rethrown and leaves the old file.
   */
  after?: Promise<unknown>;
}

/**
 * Replaces a file atomically with mode 0600, creating its directory with mode
 * 0700 (and tightening a looser one).
 *
 * @example
 * ```ts ignore
 * import { writeFileAtomic } from "./file.ts";
 * await writeFileAtomic("/tmp/loopauth/config.json", "{}\n");
 * ```
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  // Both settle before anything is decided: nothing keeps writing after this returns.
  const [written, ready] = await Promise.allSettled([writeSynced(temp, text), options.after]);
  if (written.status === "rejected" || ready.status === "rejected") {
    removeQuietly(temp);
    if (ready.status === "rejected") throw ready.reason;
    throw storageError((written as PromiseRejectedResult).reason, `Cannot write ${path}`);
  }
  try {
    Deno.renameSync(temp, path);
  } catch (error) {
    removeQuietly(temp);
    throw storageError(error, `Cannot write ${path}`);
  }
}

/** Writes a new file with mode 0600 (its directory 0700) and syncs it to disk. */
async function writeSynced(path: string, text: string): Promise<void> {
  ensureDir(parentDir(path));
  const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
  try {
    const bytes = new TextEncoder().encode(text);
    for (let written = 0; written < bytes.length;) {
      written += file.writeSync(bytes.subarray(written));
    }
    await file.sync(); // the one slow call on some disks: off the event loop
  } finally {
    file.close();
  }
}

/**
 * Creates a directory with mode 0700, or tightens an existing one to 0700.
 *
 * @example
 * ```ts ignore
 * import { ensureDir } from "./file.ts";
 * ensureDir("/tmp/loopauth");
 * ```
 */
export function ensureDir(dir: string): void {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (Deno.build.os !== "windows") Deno.chmodSync(dir, 0o700);
}

/**
 * A `storage` error for a failed file operation (`permission` when Deno
 * denied it).
 *
 * @example
 * ```ts
 * import { storageError } from "./file.ts";
 * const error = storageError(new Error("disk full"), "Cannot write /tmp/x");
 * ```
 */
export function storageError(error: unknown, what: string): LoopauthError {
  if (error instanceof LoopauthError) return error;
  if (error instanceof Deno.errors.NotCapable) {
    return new LoopauthError(
      "permission",
      `${what}: Deno has no permission for it (--allow-read/--allow-write)`,
      { cause: error },
    );
  }
  const reason = error instanceof Error ? error.message.split(":")[0] : String(error);
  return new LoopauthError("storage", `${what}: ${reason}`, { cause: error });
}

function corrupted(path: string, what: string): LoopauthError {
  return new LoopauthError(
    "storage",
    `Cannot read ${path}: it is not a valid ${what} (fix or delete it)`,
  );
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // already gone
  }
}
