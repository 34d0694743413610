/**
 * The format of `tokens.enc`, the encrypted store's file: its path and its
 * shape, apart from the cryptography of `encrypted.ts` (the recovery of an
 * interrupted write needs only these).
 * @module
 */
import { isRecord } from "./file.ts";
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
