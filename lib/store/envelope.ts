/**
 * The format of `tokens.enc`, the encrypted store's file: its path and its
 * shape, apart from the cryptography of `encrypted.ts` (the recovery of an
 * interrupted write needs only these).
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { isRecord } from "../core/json.ts";
import { joinPath, STORE_FILES } from "./paths.ts";

/** The `format` field of `tokens.enc`. */
export const ENVELOPE_FORMAT = "loopauth-encrypted";

/** The key derivation of a `tokens.enc`. */
export interface Kdf {
  /** Always scrypt. */
  name: "scrypt";
  /** scrypt's cost. */
  N: number;
  /** scrypt's block size. */
  r: number;
  /** scrypt's parallelism. */
  p: number;
  /** 16 random bytes, base64. */
  salt: string;
}

/**
 * The least scrypt cost loopauth derives a key with (a file asking for less
 * is refused, never decrypted): N=2^14, r=8, p=1 (the parameters scrypt's
 * paper gives for interactive logins) and a salt of 16 bytes.
 */
export const SCRYPT_FLOOR = { N: 2 ** 14, r: 8, p: 1, saltBytes: 16 } as const;

/** The most memory a file's scrypt parameters may ask for (twice what new files use). */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** The most scrypt parallelism a file may ask for (each unit costs a whole derivation's time). */
export const MAX_SCRYPT_P = 4;

/** A whole `tokens.enc`. */
export interface Envelope {
  /** {@linkcode ENVELOPE_FORMAT}. */
  format: typeof ENVELOPE_FORMAT;
  /** 1. */
  version: 1;
  /** How the key comes from the passphrase. */
  kdf: Kdf;
  /** 16 bytes of the derived key that are not the AES key: tells a wrong passphrase from a changed file. */
  check: string;
  /** AES-GCM's 12-byte IV, base64. */
  iv: string;
  /** The encrypted secrets, base64. */
  data: string;
}

/**
 * The path of the encrypted secrets file.
 *
 * @example
 * ```ts
 * import { encryptedFilePath } from "./envelope.ts";
 * encryptedFilePath({ dir: "/tmp/loopauth" }); // "/tmp/loopauth/tokens.enc"
 * ```
 */
export function encryptedFilePath(options: { dir: string }): string {
  return joinPath(options.dir, STORE_FILES.encrypted);
}

/**
 * Whether parsed JSON has the shape of a whole `tokens.enc` (nothing is
 * decrypted: for the recovery of a temp file a killed writer left).
 *
 * @example
 * ```ts
 * import { isEncryptedFile } from "./envelope.ts";
 * isEncryptedFile({ format: "loopauth-encrypted" }); // false: no key parameters, no data
 * ```
 */
export function isEncryptedFile(data: unknown): data is Envelope {
  if (!isRecord(data) || data.format !== ENVELOPE_FORMAT || data.version !== 1) return false;
  const kdf = data.kdf;
  return isRecord(kdf) && kdf.name === "scrypt" && [kdf.N, kdf.r, kdf.p].every(isCount) &&
    [kdf.salt, data.check, data.iv, data.data].every((v) => typeof v === "string");
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}

/** A `tokens.enc` whose fields are checked and decoded. */
export interface DecodedEnvelope {
  /** The file as parsed. */
  envelope: Envelope;
  /** The IV's 12 bytes. */
  iv: Uint8Array<ArrayBuffer>;
  /** The ciphertext with its 16-byte tag. */
  data: Uint8Array<ArrayBuffer>;
}

/**
 * Checks the fields of a `tokens.enc` read from `path` before any key is
 * derived: base64 where base64 is due, the lengths of the salt, check bytes,
 * IV and ciphertext, and scrypt parameters no lower than
 * {@linkcode SCRYPT_FLOOR} (a cheap derivation would make every offline
 * guess cheap) and no costlier than {@linkcode MAX_SCRYPT_MEMORY} (a changed
 * header must not make loopauth spend minutes or gigabytes). Anything else
 * is a `storage` error naming the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEnvelope } from "./envelope.ts";
 * const file = {
 *   format: "loopauth-encrypted",
 *   version: 1,
 *   kdf: { name: "scrypt", N: 1, r: 8, p: 1, salt: "AAAAAAAAAAAAAAAAAAAAAA==" },
 *   check: "AAAAAAAAAAAAAAAAAAAAAA==",
 *   iv: "AAAAAAAAAAAAAAAA",
 *   data: "AAAAAAAAAAAAAAAAAAAAAA==",
 * } as const;
 * assert.throws(() => decodeEnvelope(file, "/tmp/loopauth/tokens.enc"), /too weak/);
 * ```
 */
export function decodeEnvelope(envelope: Envelope, path: string): DecodedEnvelope {
  const decoded = [envelope.kdf.salt, envelope.check, envelope.iv, envelope.data].map(decodeBase64);
  if (decoded.includes(undefined)) throw damagedEnvelope(path);
  const [salt, check, iv, data] = decoded as Uint8Array<ArrayBuffer>[];
  if (check.length !== 16 || iv.length !== 12 || data.length < 16) throw damagedEnvelope(path);
  const { N, r, p } = envelope.kdf;
  if ((N & (N - 1)) !== 0) throw damagedEnvelope(path); // scrypt's N is a power of two
  const floor = SCRYPT_FLOOR;
  if (N < floor.N || r < floor.r || p < floor.p || salt.length < floor.saltBytes) {
    throw new LoopauthError(
      "storage",
      `Refusing to use ${path}: its key derivation is too weak to protect tokens (scrypt N=${N}, r=${r}, p=${p}, a ${salt.length}-byte salt; loopauth needs at least N=2^${
        Math.log2(floor.N)
      }, r=${floor.r}, p=${floor.p} and ${floor.saltBytes} bytes): restore it, or delete it and log in again`,
    );
  }
  if (128 * r * N > MAX_SCRYPT_MEMORY || p > MAX_SCRYPT_P) throw damagedEnvelope(path);
  return { envelope, iv, data };
}

/**
 * The error for a `tokens.enc` that is cut short, malformed or not loopauth's.
 *
 * @example
 * ```ts ignore
 * import { damagedEnvelope } from "./envelope.ts";
 * throw damagedEnvelope("/tmp/loopauth/tokens.enc");
 * ```
 */
export function damagedEnvelope(path: string): LoopauthError {
  return new LoopauthError(
    "storage",
    `Cannot read ${path}: it is cut short or not a loopauth encrypted tokens file (restore it, or delete it and log in again)`,
  );
}

/**
 * Canonical base64 (padded, no white space) as bytes; `undefined` for
 * anything else (`atob` forgives white space and missing padding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64 } from "./envelope.ts";
 * assert.deepEqual(decodeBase64("AQI="), new Uint8Array([1, 2]));
 * assert.equal(decodeBase64("%%%"), undefined);
 * ```
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * Bytes as base64 (padded).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "./envelope.ts";
 * assert.equal(encodeBase64(new Uint8Array([1, 2])), "AQI=");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}
