/**
 * Accounts written straight into a config directory (file storage), for
 * tests that start from a stored token rather than a login.
 * @module
 */
import { saveAccount } from "../../lib/store/accounts.ts";
import { fileStore } from "../../lib/store/file.ts";

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
