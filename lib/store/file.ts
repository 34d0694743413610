/**
 * Accounts in one JSON file, mode 0600 inside a 0700 directory, replaced
 * atomically (temp file, fsync, rename) so a crash leaves the old file or the
 * new one, never a part.
 * @module
 */
import { join } from "node:path";
import { LoopauthError } from "../errors.ts";
import type { TokenSet } from "../providers/github.ts";
import { configDir } from "./paths.ts";

/** One logged-in account on one host. */
export interface StoredAccount {
  /** Host key: `github.com`, `ghe.example.com` or an `http://` loopback origin. */
  host: string;
  /** The user's login name. */
  login: string;
  /** Client id of the app the token belongs to (needed to revoke and refresh). */
  clientId: string;
  /** Client secret, when the login used one (needed to revoke). */
  clientSecret?: string;
  /** The tokens. */
  token: TokenSet;
  /** When the login happened (ISO time). */
  createdAt: string;
}

/** Options shared by the file store's functions. */
export interface FileStoreOptions {
  /** Directory of the store (default: {@linkcode configDir}). */
  dir?: string;
}

interface FileContents {
  version: 1;
  hosts: Record<string, StoredAccount>;
}

const FILE_NAME = "credentials.json";

/**
 * The path of the credentials file.
 *
 * @example
 * ```ts
 * import { credentialsPath } from "./file.ts";
 * console.log(credentialsPath({ dir: "/tmp/loopauth" })); // /tmp/loopauth/credentials.json
 * ```
 */
export function credentialsPath(options: FileStoreOptions = {}): string {
  return join(options.dir ?? configDir(), FILE_NAME);
}

/**
 * Reads the stored account of a host, or `undefined` when there is none.
 *
 * @example
 * ```ts
 * import { readAccount } from "./file.ts";
 * const account = await readAccount("github.com");
 * if (account) console.log(account.login);
 * ```
 */
export async function readAccount(
  host: string,
  options: FileStoreOptions = {},
): Promise<StoredAccount | undefined> {
  const contents = await readContents(credentialsPath(options));
  return Object.hasOwn(contents.hosts, host) ? contents.hosts[host] : undefined;
}

/**
 * Stores (or replaces) the account of its host.
 *
 * @example
 * ```ts
 * import { saveAccount } from "./file.ts";
 * await saveAccount({
 *   host: "github.com", login: "octocat", clientId: "Iv1.abc", createdAt: new Date().toISOString(),
 *   token: { accessToken: "gho_…", tokenType: "bearer", scopes: [] },
 * });
 * ```
 */
export async function saveAccount(
  account: StoredAccount,
  options: FileStoreOptions = {},
): Promise<string> {
  const path = credentialsPath(options);
  const contents = await readContents(path);
  contents.hosts[account.host] = account;
  await writeContents(path, contents);
  return path;
}

/**
 * Removes the account of a host; true when there was one.
 *
 * @example
 * ```ts
 * import { removeAccount } from "./file.ts";
 * await removeAccount("github.com");
 * ```
 */
export async function removeAccount(
  host: string,
  options: FileStoreOptions = {},
): Promise<boolean> {
  const path = credentialsPath(options);
  const contents = await readContents(path);
  if (!Object.hasOwn(contents.hosts, host)) return false;
  delete contents.hosts[host];
  await writeContents(path, contents);
  return true;
}

async function readContents(path: string): Promise<FileContents> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { version: 1, hosts: {} };
    throw storageError(error, `Cannot read ${path}`);
  }
  try {
    const data = JSON.parse(text);
    if (typeof data?.hosts !== "object" || data.hosts === null || Array.isArray(data.hosts)) {
      throw new TypeError("no hosts");
    }
    return { version: 1, hosts: data.hosts };
  } catch {
    throw new LoopauthError(
      "storage",
      `Cannot read ${path}: it is not a valid loopauth credentials file (fix or delete it)`,
    );
  }
}

async function writeContents(path: string, contents: FileContents): Promise<void> {
  const dir = join(path, "..");
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o700);
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      await file.write(new TextEncoder().encode(`${JSON.stringify(contents, null, 2)}\n`));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw storageError(error, `Cannot write ${path}`);
  }
}

function storageError(error: unknown, what: string): LoopauthError {
  if (error instanceof Deno.errors.NotCapable) {
    return new LoopauthError(
      "permission",
      `${what}: Deno has no permission for it (--allow-read/--allow-write)`,
    );
  }
  const reason = error instanceof Error ? error.message.split(":")[0] : String(error);
  return new LoopauthError("storage", `${what}: ${reason}`, { cause: error });
}
