/**
 * The encrypted secret store: `tokens.enc`, AES-256-GCM (WebCrypto) with
 * a key derived from a passphrase by scrypt (N=2^17, r=8, p=1: 128 MiB and
 * a noticeable pause, docs/agent.md; from the audited npm @noble/hashes, loaded only when a key
 * is derived). The passphrase comes from the first line of
 * `LOOPAUTH_PASSPHRASE_FILE` (which may not lie in the config directory nor
 * be readable by others: ./passphrase_file.ts), else from the terminal (not
 * echoed); an unlocked key is cached in this process and, when one runs, in
 * the loopauth agent for its lifetime, so the passphrase is asked once per
 * session. Written like `tokens.json` (temp file, fsync, rename: a crash
 * leaves the old file or the new one), always with the current scrypt
 * parameters and a salt of its own: a file read with others is re-keyed.
 *
 * A wrong passphrase, a changed file (the GCM tag fails), a cut, malformed
 * or foreign file and scrypt parameters below the floor are each a
 * `storage` error (exit 8) naming the file, and nothing is written.
 * @module
 */
import { isRecord } from "../core/json.ts";
import { LoopauthError } from "../core/errors.ts";
import { readEnvVar } from "../core/env_vars.ts";
import { readHiddenLine } from "../platform/hidden_line.ts";
import { agentRequest } from "./agent_client.ts";
import { itemName } from "./agent_protocol.ts";
import {
  damagedEnvelope as damaged,
  decodeBase64,
  type DecodedEnvelope,
  decodeEnvelope,
  encodeBase64 as base64,
  encryptedFilePath,
  type Envelope,
  ENVELOPE_FORMAT,
  isEncryptedFile,
  type Kdf,
} from "./envelope.ts";
import { readJsonFile, writeFileAtomic } from "./file.ts";
import { readPassphraseFile } from "./passphrase_file.ts";
import type { Secrets, SecretStore } from "./secrets.ts";

/** The scrypt cost of new files (OWASP's recommendation for scrypt). */
export const SCRYPT_PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const;

/** Milliseconds the agent may take to say whether it holds a key (the passphrase is asked otherwise). */
const AGENT_CACHE_TIMEOUT_MS = 2_000;

/** Options of {@linkcode encryptedStore}. */
export interface EncryptedStoreOptions {
  /** The config directory. */
  dir: string;
  /** Reads `LOOPAUTH_PASSPHRASE_FILE` (default: the process's environment). */
  env?: (name: string) => string | undefined;
  /** Asks for the passphrase (default: the terminal, without echo). */
  ask?: (prompt: string) => Promise<string | undefined>;
}

/** The encrypted store, which can be unlocked before it is first needed. */
export interface EncryptedStore extends SecretStore {
  /**
   * Gets the key now (asking for the passphrase once, twice for a new file)
   * and checks that the file decrypts: `login` calls it before the browser
   * opens.
   */
  unlock(): Promise<void>;
}

/** A derived key: 32 bytes of AES key, then the check bytes. */
interface UnlockedKey {
  kdf: Kdf;
  bytes: Uint8Array;
}

/** Keys unlocked in this process, by salt (status reads several accounts). */
const unlocked = new Map<string, UnlockedKey>();

type Hosts = Record<string, Record<string, Secrets>>;

/**
 * The encrypted store of the config directory `dir`.
 *
 * @example
 * ```ts ignore
 * import { encryptedStore } from "./encrypted.ts";
 * const store = encryptedStore({ dir: "/tmp/loopauth" });
 * await store.set("github.com", "octocat", { accessToken: "gho_…" });
 * ```
 */
export function encryptedStore(options: EncryptedStoreOptions): EncryptedStore {
  const path = encryptedFilePath(options);
  const env = options.env ?? readEnvVar;
  // No terminal: nothing to ask on (the caller names the other ways).
  const ask = options.ask ??
    (async (prompt: string) => Deno.stdin.isTerminal() ? await readHiddenLine(prompt) : undefined);

  const passphrase = (confirm: boolean) =>
    passphraseFor(path, { env, ask, confirm, dir: options.dir });

  const readEnvelope = (): DecodedEnvelope | undefined => {
    const data = readJsonFile(path, "loopauth encrypted store", {
      valid: isEncryptedFile,
      invalid: () => damaged(path),
    });
    if (data === undefined) return undefined;
    return decodeEnvelope(data as unknown as Envelope, path);
  };

  /**
   * The key of an existing file: this process's, the agent's, or from the
   * passphrase (then returned too, for a re-key on the next write).
   */
  const keyFor = async (
    kdf: Kdf,
    check: string,
  ): Promise<{ key: UnlockedKey; passphrase?: string }> => {
    const known = unlocked.get(kdf.salt);
    if (known && checkOf(known) === check) return { key: known };
    const cached = await fromAgent(kdf);
    if (cached && checkOf(cached) === check) {
      return { key: await remember(cached, { agent: false }) };
    }
    const { text, from } = await passphrase(false);
    const key = await derive(text, kdf);
    if (checkOf(key) !== check) throw wrongPassphrase(path, from);
    return { key: await remember(key, { agent: true }), passphrase: text };
  };

  /** A key for a new file (asked twice on a terminal). */
  let fresh: UnlockedKey | undefined;
  const newKey = async (): Promise<UnlockedKey> => {
    if (fresh) return fresh;
    fresh = await remember(await derive((await passphrase(true)).text, currentKdf()), {
      agent: true,
    });
    return fresh;
  };

  /**
   * The key to write with: `key` when it has the current parameters, else
   * one derived anew with them and a fresh salt (from the passphrase, asked
   * once more when the key came from a cache).
   */
  const writingKey = async (key: UnlockedKey, known?: string): Promise<UnlockedKey> => {
    if (isCurrent(key.kdf)) return key;
    let text = known;
    if (text === undefined) {
      const asked = await passphrase(false);
      if (checkOf(await derive(asked.text, key.kdf)) !== checkOf(key)) {
        throw wrongPassphrase(path, asked.from);
      }
      text = asked.text;
    }
    return await remember(await derive(text, currentKdf()), { agent: true });
  };

  const open = async (): Promise<{ hosts: Hosts; key?: UnlockedKey; passphrase?: string }> => {
    const decoded = readEnvelope();
    if (!decoded) return { hosts: {} };
    const { envelope, iv, data: ciphertext } = decoded;
    const { key, passphrase } = await keyFor(envelope.kdf, envelope.check);
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: header(envelope) },
        await aesKey(key),
        ciphertext,
      );
    } catch {
      throw new LoopauthError(
        "storage",
        `Cannot decrypt ${path}: it was changed or damaged since loopauth wrote it (the passphrase is right; restore the file, or delete it and log in again)`,
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(new TextDecoder().decode(plain));
    } catch {
      throw damaged(path);
    }
    if (!isRecord(data) || !isRecord(data.hosts) || !Object.values(data.hosts).every(isRecord)) {
      throw damaged(path);
    }
    return { hosts: data.hosts as Hosts, key, passphrase };
  };

  const save = async (hosts: Hosts, opened: UnlockedKey, passphrase?: string): Promise<void> => {
    const key = await writingKey(opened, passphrase);
    const envelope = {
      format: ENVELOPE_FORMAT,
      version: 1,
      kdf: key.kdf,
      check: checkOf(key),
    } as const;
    const iv = randomBytes(12);
    const data = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: header(envelope) },
      await aesKey(key),
      new TextEncoder().encode(JSON.stringify({ version: 1, hosts })),
    );
    const file: Envelope = { ...envelope, iv: base64(iv), data: base64(new Uint8Array(data)) };
    await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
  };

  return {
    name: "encrypted",
    location: path,
    async unlock() {
      const { key } = await open();
      if (!key) await newKey();
    },
    async get(host, login) {
      const { hosts } = await open();
      const secrets = Object.hasOwn(hosts, host) && Object.hasOwn(hosts[host], login)
        ? hosts[host][login]
        : undefined;
      if (secrets !== undefined && typeof secrets?.accessToken !== "string") throw damaged(path);
      return secrets;
    },
    async set(host, login, secrets) {
      const opened = await open();
      const key = opened.key ?? await newKey();
      const { hosts } = opened;
      if (!Object.hasOwn(hosts, host)) hosts[host] = {};
      hosts[host][login] = secrets;
      await save(hosts, key, opened.passphrase);
    },
    async delete(host, login) {
      const { hosts, key, passphrase } = await open();
      if (!key || !Object.hasOwn(hosts, host) || !Object.hasOwn(hosts[host], login)) return false;
      delete hosts[host][login];
      if (Object.keys(hosts[host]).length === 0) delete hosts[host];
      await save(hosts, key, passphrase);
      return true;
    },
  };
}

/** The passphrase: the first line of `LOOPAUTH_PASSPHRASE_FILE`, else the terminal. */
async function passphraseFor(
  path: string,
  options: {
    env: (name: string) => string | undefined;
    ask: (prompt: string) => Promise<string | undefined>;
    confirm: boolean;
    dir: string;
  },
): Promise<{ text: string; from: "file" | "terminal" }> {
  const file = options.env("LOOPAUTH_PASSPHRASE_FILE");
  if (file) return { text: await readPassphraseFile(file, { dir: options.dir }), from: "file" };
  const text = await options.ask(
    options.confirm ? `New passphrase for ${path}: ` : `Passphrase for ${path}: `,
  );
  if (text === undefined) {
    throw new LoopauthError(
      "storage",
      `The passphrase for ${path} is needed and there is no terminal to ask it on: set LOOPAUTH_PASSPHRASE_FILE, or run loopauth agent start and unlock it once on a terminal`,
    );
  }
  if (text === "") throw new LoopauthError("usage", "The passphrase may not be empty");
  if (options.confirm && await options.ask("The same passphrase again: ") !== text) {
    throw new LoopauthError("usage", "The passphrases did not match: nothing was stored");
  }
  return { text, from: "terminal" };
}

/** The parameters of a new key: the current cost and a fresh 16-byte salt. */
function currentKdf(): Kdf {
  return { name: "scrypt", ...SCRYPT_PARAMS, salt: base64(randomBytes(16)) };
}

/** Whether a key was derived with the current cost and a 16-byte salt. */
function isCurrent(kdf: Kdf): boolean {
  return kdf.N === SCRYPT_PARAMS.N && kdf.r === SCRYPT_PARAMS.r && kdf.p === SCRYPT_PARAMS.p &&
    decodeBase64(kdf.salt)?.length === 16;
}

function wrongPassphrase(path: string, from: "file" | "terminal"): LoopauthError {
  return new LoopauthError(
    "storage",
    `Wrong passphrase for ${path}${
      from === "file" ? " (from LOOPAUTH_PASSPHRASE_FILE)" : ""
    }: nothing was changed`,
  );
}

/** scrypt, loaded on first use: `token` with a cached key loads no npm package. */
async function derive(passphrase: string, kdf: Kdf): Promise<UnlockedKey> {
  const { scrypt } = await import("npm:@noble/hashes@^2.0.0/scrypt.js");
  const salt = decodeBase64(kdf.salt)!; // checked by decodeEnvelope, or made here
  const bytes = scrypt(new TextEncoder().encode(passphrase.normalize("NFC")), salt, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    dkLen: 64,
    maxmem: 1024 * kdf.r * (kdf.N + kdf.p) + 1024,
  });
  return { kdf, bytes };
}

/** The agent's copy of a key, if an agent runs and holds it. */
async function fromAgent(kdf: Kdf): Promise<UnlockedKey | undefined> {
  try {
    const { value } = await agentRequest(
      { op: "get", item: itemName("key", kdf.salt) },
      { timeout: AGENT_CACHE_TIMEOUT_MS },
    );
    if (typeof value !== "string" || !/^[0-9a-f]{128}$/.test(value)) return undefined;
    return { kdf, bytes: Uint8Array.from(value.match(/../g)!, (h) => parseInt(h, 16)) };
  } catch {
    return undefined; // no agent: the passphrase is asked
  }
}

/** Keeps a key for this process and, with `agent`, in a running agent (best effort). */
async function remember(key: UnlockedKey, { agent }: { agent: boolean }): Promise<UnlockedKey> {
  unlocked.set(key.kdf.salt, key);
  if (agent) {
    const value = Array.from(key.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    await agentRequest(
      { op: "set", item: itemName("key", key.kdf.salt), value },
      { timeout: AGENT_CACHE_TIMEOUT_MS },
    ).catch(() => {}); // no agent: only this process keeps it
  }
  return key;
}

function aesKey(key: UnlockedKey): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", key.bytes.slice(0, 32), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

function checkOf(key: UnlockedKey): string {
  return base64(key.bytes.slice(32, 48));
}

/** What the tag also covers: every field but the IV and the data, in a fixed order. */
function header(
  e: Pick<Envelope, "format" | "version" | "kdf" | "check">,
): Uint8Array<ArrayBuffer> {
  const { name, N, r, p, salt } = e.kdf;
  return new TextEncoder().encode(
    JSON.stringify([e.format, e.version, name, N, r, p, salt, e.check]),
  );
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}
