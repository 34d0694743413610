/**
 * The encrypted secrets backend: `tokens.enc`, AES-256-GCM (WebCrypto) with
 * a key derived from a passphrase by scrypt (N=2^17, r=8, p=1: 128 MiB and
 * about 0.4 s, from the audited npm @noble/hashes, loaded only when a key
 * is derived). The passphrase comes from `LOOPAUTH_PASSPHRASE_FILE`, else
 * from the terminal (not echoed); an unlocked key is cached in this process
 * and, when one runs, in the loopauth agent for its lifetime, so the
 * passphrase is asked once per session. Written like `tokens.json`
 * (temp file, fsync, rename: a crash leaves the old file or the new one).
 *
 * A wrong passphrase, a changed file (the GCM tag fails) and a cut or
 * foreign file are each a `storage` error (exit 8) naming the file, and
 * nothing is written.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { readEnvVar } from "../core/env_vars.ts";
import { askPassphrase } from "../platform/passphrase.ts";
import { agentRequest } from "./agent_client.ts";
import { itemName } from "./agent_protocol.ts";
import {
  encryptedFilePath,
  type Envelope,
  ENVELOPE_FORMAT,
  isEncryptedFile,
  type Kdf,
} from "./envelope.ts";
import { isRecord, readJsonFile, storageError, writeFileAtomic } from "./file.ts";
import type { SecretBackend, Secrets } from "./secrets.ts";

/** The scrypt cost of new files (OWASP's recommendation for scrypt). */
export const SCRYPT_PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const;

/** The most memory a file's scrypt parameters may ask for (twice what new files use). */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** Milliseconds the agent may take to say whether it holds a key (the passphrase is asked otherwise). */
const AGENT_CACHE_TIMEOUT_MS = 2_000;

/** Options of {@linkcode encryptedBackend}. */
export interface EncryptedStoreOptions {
  /** The config directory. */
  dir: string;
  /** Reads `LOOPAUTH_PASSPHRASE_FILE` (default: the process's environment). */
  env?: (name: string) => string | undefined;
  /** Asks for the passphrase (default: the terminal, without echo). */
  ask?: (prompt: string) => Promise<string | undefined>;
}

/** The encrypted backend, which can be unlocked before it is first needed. */
export interface EncryptedBackend extends SecretBackend {
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
 * The encrypted backend of the config directory `dir`.
 *
 * @example
 * ```ts
 * import { encryptedBackend } from "./encrypted.ts";
 * const backend = encryptedBackend({ dir: "/tmp/loopauth" });
 * await backend.set("github.com", "octocat", { accessToken: "gho_…" });
 * ```
 */
export function encryptedBackend(options: EncryptedStoreOptions): EncryptedBackend {
  const path = encryptedFilePath(options);
  const env = options.env ?? readEnvVar;
  const ask = options.ask ?? askPassphrase;

  const readEnvelope = (): Envelope | undefined => {
    const data = readJsonFile(path, "loopauth encrypted store", {
      valid: isEncryptedFile,
      invalid: () => damaged(path),
    });
    if (data === undefined) return undefined;
    const envelope = data as unknown as Envelope;
    const { N, r, p } = envelope.kdf;
    // A changed header must not make loopauth spend minutes or gigabytes.
    if ((N & (N - 1)) !== 0 || 128 * r * N > MAX_SCRYPT_MEMORY || p > 4) throw damaged(path);
    return envelope;
  };

  /** The key of an existing file: this process's, the agent's, or from the passphrase. */
  const keyFor = async (kdf: Kdf, check: string): Promise<UnlockedKey> => {
    const known = unlocked.get(kdf.salt);
    if (known && checkOf(known) === check) return known;
    const cached = await fromAgent(kdf);
    if (cached && checkOf(cached) === check) return await remember(cached, { agent: false });
    const passphrase = await passphraseFor(path, { env, ask, confirm: false });
    const key = await derive(passphrase.text, kdf);
    if (checkOf(key) !== check) {
      throw new LoopauthError(
        "storage",
        `Wrong passphrase for ${path}${
          passphrase.from === "file" ? " (from LOOPAUTH_PASSPHRASE_FILE)" : ""
        }: nothing was changed`,
      );
    }
    return await remember(key, { agent: true });
  };

  /** A key for a new file (asked twice on a terminal). */
  let fresh: UnlockedKey | undefined;
  const newKey = async (): Promise<UnlockedKey> => {
    if (fresh) return fresh;
    const passphrase = await passphraseFor(path, { env, ask, confirm: true });
    const kdf: Kdf = { name: "scrypt", ...SCRYPT_PARAMS, salt: base64(randomBytes(16)) };
    fresh = await remember(await derive(passphrase.text, kdf), { agent: true });
    return fresh;
  };

  const open = async (): Promise<{ hosts: Hosts; key?: UnlockedKey }> => {
    const envelope = readEnvelope();
    if (!envelope) return { hosts: {} };
    const key = await keyFor(envelope.kdf, envelope.check);
    let ciphertext: Uint8Array<ArrayBuffer>, iv: Uint8Array<ArrayBuffer>;
    try {
      [ciphertext, iv] = [unbase64(envelope.data), unbase64(envelope.iv)];
    } catch {
      throw damaged(path);
    }
    if (ciphertext.length < 16 || iv.length !== 12) throw damaged(path);
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
    return { hosts: data.hosts as Hosts, key };
  };

  const save = async (hosts: Hosts, key: UnlockedKey): Promise<void> => {
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
      await save(hosts, key);
    },
    async delete(host, login) {
      const { hosts, key } = await open();
      if (!key || !Object.hasOwn(hosts, host) || !Object.hasOwn(hosts[host], login)) return false;
      delete hosts[host][login];
      if (Object.keys(hosts[host]).length === 0) delete hosts[host];
      await save(hosts, key);
      return true;
    },
  };
}

/** The passphrase: from `LOOPAUTH_PASSPHRASE_FILE`, else the terminal. */
async function passphraseFor(
  path: string,
  options: {
    env: (name: string) => string | undefined;
    ask: (prompt: string) => Promise<string | undefined>;
    confirm: boolean;
  },
): Promise<{ text: string; from: "file" | "terminal" }> {
  const file = options.env("LOOPAUTH_PASSPHRASE_FILE");
  if (file) {
    let text: string;
    try {
      text = (await Deno.readTextFile(file)).replace(/\r?\n$/, "");
    } catch (error) {
      throw storageError(error, `Cannot read LOOPAUTH_PASSPHRASE_FILE ${file}`);
    }
    if (text === "") {
      throw new LoopauthError("storage", `LOOPAUTH_PASSPHRASE_FILE ${file} is empty`);
    }
    return { text, from: "file" };
  }
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

/** scrypt, loaded on first use: `token` with a cached key loads no npm package. */
async function derive(passphrase: string, kdf: Kdf): Promise<UnlockedKey> {
  const { scrypt } = await import("npm:@noble/hashes@^2.0.0/scrypt.js");
  const salt = unbase64(kdf.salt);
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

function damaged(path: string): LoopauthError {
  return new LoopauthError(
    "storage",
    `Cannot read ${path}: it is cut short or not a loopauth encrypted tokens file (restore it, or delete it and log in again)`,
  );
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function unbase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
