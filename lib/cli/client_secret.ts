/**
 * The client secret of `login`, `refresh` and `logout`, kept off the command
 * line where it can be: `LOOPAUTH_CLIENT_SECRET`, `--client-secret-file PATH`
 * (refused when others may read it), `--client-secret -` (the first line of
 * stdin, or a hidden prompt on a terminal), or `--client-secret SECRET` (kept
 * for compatibility, with a warning: other local users can read a program's
 * arguments, and shells keep them in their history).
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { checkPrivate, firstLine, MAX_PASSPHRASE_BYTES } from "../store/passphrase_file.ts";
import { flagOrEnv, type Flags, type Parsed } from "./command.ts";

/**
 * The flags that give a client secret (every command taking one has both;
 * a command may say more in its own `description`).
 */
export const CLIENT_SECRET_FLAGS = {
  "client-secret-file": {
    type: "string",
    value: "PATH",
    description:
      "the app's client secret: the file's first line; refused when other users may read it (or LOOPAUTH_CLIENT_SECRET)",
  },
  "client-secret": {
    type: "string",
    value: "-|SECRET",
    description:
      "- reads the secret from stdin (a hidden prompt on a terminal); the secret itself is kept for compatibility, with a warning (other local users can read a program's arguments, and it stays in shell history)",
  },
} as const satisfies Flags;

/** The one line printed when the secret itself is an argument. */
export const ARGV_SECRET_WARNING =
  "Warning: --client-secret SECRET shows the secret to other local users and stays in shell history: use LOOPAUTH_CLIENT_SECRET, --client-secret-file PATH or --client-secret -";

/**
 * The client secret the flags or the environment give, or `undefined`:
 * `--client-secret-file`, `--client-secret -` (stdin or a hidden prompt),
 * `--client-secret SECRET` (with {@linkcode ARGV_SECRET_WARNING} on stderr),
 * else `LOOPAUTH_CLIENT_SECRET`.
 *
 * @example
 * ```ts ignore
 * import { clientSecretFlag } from "./client_secret.ts";
 * const secret = await clientSecretFlag({ "client-secret-file": "/run/user/1000/app-secret" });
 * ```
 */
export async function clientSecretFlag(
  values: Parsed["values"],
): Promise<string | undefined> {
  const file = values["client-secret-file"];
  const given = values["client-secret"];
  if (typeof file === "string" && given !== undefined) {
    throw new LoopauthError("usage", "Give --client-secret or --client-secret-file, not both");
  }
  if (typeof file === "string") return await readSecretFile(file);
  if (given === "-") {
    if (Deno.stdin.isTerminal()) return await promptClientSecret();
    return nonEmpty(decodeLine(await firstLine(Deno.stdin), "stdin"), "stdin");
  }
  if (typeof given === "string" && given !== "") console.error(ARGV_SECRET_WARNING);
  return flagOrEnv(values, "client-secret", "LOOPAUTH_CLIENT_SECRET");
}

/**
 * The client of a login to a resource by its URL: `--client-id` only, never
 * `LOOPAUTH_CLIENT_ID`, and a secret only with it. The authorization server
 * is whichever the resource names: the environment's client, set for GitHub
 * logins, must never go there.
 *
 * @example
 * ```ts ignore
 * import { resourceClientFlags } from "./client_secret.ts";
 * const { clientId, clientSecret } = await resourceClientFlags({ "client-id": "my-app" });
 * ```
 */
export async function resourceClientFlags(
  values: Parsed["values"],
): Promise<{ clientId?: string; clientSecret?: string }> {
  const clientId = typeof values["client-id"] === "string" ? values["client-id"] : undefined;
  if (clientId === undefined) {
    for (const flag of ["client-secret", "client-secret-file"]) {
      if (values[flag] !== undefined) {
        throw new LoopauthError("usage", `--${flag} goes with --client-id`);
      }
    }
    return {};
  }
  return { clientId, clientSecret: await clientSecretFlag(values) };
}

/**
 * Asks for the client secret on the terminal without echoing it; for
 * `login`'s `askClientSecret` when stdin is a terminal.
 *
 * @example
 * ```ts
 * import { promptClientSecret } from "./client_secret.ts";
 * if (Deno.stdin.isTerminal()) console.log((await promptClientSecret()).length);
 * ```
 */
export async function promptClientSecret(): Promise<string> {
  const { readHiddenLine } = await import("../platform/hidden_line.ts");
  return nonEmpty(
    await readHiddenLine("Client secret of the app (it is not shown): "),
    "the prompt",
  );
}

/** The first line of a file only its owner may read. */
async function readSecretFile(file: string): Promise<string> {
  const refuse = (why: string) =>
    new LoopauthError("usage", `Refusing to use --client-secret-file ${file}: ${why}`);
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(file, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new LoopauthError("usage", `Cannot read --client-secret-file ${file}`, { cause: error });
  }
  try {
    checkPrivate(await handle.stat(), refuse, file);
    return nonEmpty(decodeLine(await firstLine(handle), file), file);
  } finally {
    handle.close();
  }
}

function decodeLine(line: Uint8Array | undefined, where: string): string {
  if (line === undefined) {
    throw new LoopauthError(
      "usage",
      `The client secret in ${where} is longer than ${MAX_PASSPHRASE_BYTES} bytes`,
    );
  }
  return new TextDecoder().decode(line).replace(/\r$/, "").trim();
}

function nonEmpty(secret: string, where: string): string {
  if (secret === "") {
    throw new LoopauthError(
      "usage",
      `No client secret in ${where}: its first line is the secret`,
    );
  }
  return secret;
}
