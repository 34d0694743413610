/**
 * Accounts written straight into a config directory (file storage), for
 * tests that start from a stored token rather than a login.
 * @module
 */
import { saveAccount } from "../../lib/store/accounts.ts";
import { fileStore } from "../../lib/store/file.ts";
import type { CliOptions } from "./cli.ts";
import { runFlags, tempDir } from "./env.ts";

/** The passphrase of the encrypted store's tests. */
export const PASSPHRASE = "correct horse battery staple";

/**
 * A passphrase file (mode 0600) in a directory of its own: never in the
 * config directory, where loopauth refuses it (tests/security/passphrase_test.ts).
 */
export async function passphraseFile(text = `${PASSPHRASE}\n`): Promise<string> {
  const path = `${await tempDir("p")}/passphrase`;
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  return path;
}

/** The documented flags with `LOOPAUTH_PASSPHRASE_FILE` and read access to it (it lies elsewhere). */
export function withPassphrase(configHome: string, file: string): CliOptions {
  const env = { LOOPAUTH_PASSPHRASE_FILE: file };
  return { configHome, env, flags: withRead(runFlags(`${configHome}/loopauth`, env), file) };
}

/** `flags` with read access to `path` as well. */
export function withRead(flags: string[], path: string): string[] {
  return flags.map((flag) => flag.startsWith("--allow-read=") ? `${flag},${path}` : flag);
}

/** Stores `login`'s `accessToken` for `host` in `dir`'s tokens.json and config.json. */
export async function saveFileAccount(
  dir: string,
  account: { host: string; login: string; accessToken: string },
  options: { clientId?: string; scopes?: string[] } = {},
): Promise<void> {
  await saveAccount(
    {
      host: account.host,
      login: account.login,
      clientId: options.clientId ?? "loopauth-dev",
      token: {
        accessToken: account.accessToken,
        tokenType: "bearer",
        scopes: options.scopes ?? [],
      },
      createdAt: new Date().toISOString(),
      storage: "file",
    },
    fileStore({ dir }),
    { dir },
  );
}
