/** `loopauth git-credential`. @module */
import { credentialFor, formatCredential, parseCredentialRequest } from "../ops/git_credential.ts";
import { type Command, oneAction, parseFlags, userFlag, writeResult } from "./command.ts";

/** What git asks a credential helper to do: its first argument. */
const ACTIONS = ["get", "store", "erase"] as const;

/**
 * The `git-credential` subcommand: git's credential helper (see
 * `loopauth setup-git`).
 *
 * @example
 * ```ts
 * import { command } from "./git_credential.ts";
 * await command.run(["get"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "git-credential",
  subcommands: ACTIONS,
  help: `git's credential helper: reads git's request on stdin and, for a host loopauth is
logged in to, prints username=LOGIN and password=TOKEN (refreshed first when needed).
For any other host it prints nothing, so git moves on. store and erase do nothing.
When the token has no repo scope (git then finds no private repository), a note on
stderr says so and names the fix: loopauth refresh --scopes repo.
When git names no username, LOOPAUTH_USER picks the account (else the host's active
one); a host where that account is not logged in gets nothing.
Set it up with loopauth setup-git.

Usage: loopauth git-credential get|store|erase

Example:
  printf 'protocol=https\\nhost=github.com\\n\\n' | loopauth git-credential get`,
  async run(argv, { signal }) {
    const { positionals } = parseFlags(argv, {}, {
      command: "git-credential",
      positionals: true,
    });
    const action = oneAction(
      positionals,
      ACTIONS,
      "loopauth git-credential takes one of get, store or erase (git passes it)",
    );
    const input = await readRequest(Deno.stdin);
    if (action !== "get") return 0;
    const { user } = userFlag({});
    const credential = await credentialFor(parseCredentialRequest(input), { signal, user });
    const text = credential ? formatCredential(credential) : "";
    if (text) writeResult(text);
    // git shows a helper's stderr: the one place to say why a private repository is "not found".
    if (text && credential?.note) console.error(credential.note);
    return 0;
  },
};

/** Longer input than this is not git's request: what came before is all that is read. */
const MAX_REQUEST = 64 * 1024;

/**
 * git's request: the lines up to the blank line that ends it, or to the end
 * of input. Read with plain `read` calls: wrapping stdin in a `Response`
 * adds stream set-up to every fetch git makes (docs/performance.md).
 */
async function readRequest(
  input: { read(buffer: Uint8Array): Promise<number | null> },
): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  let text = "";
  let size = 0;
  while (size < MAX_REQUEST && !/(^|\n)\r?\n/.test(text)) {
    const n = await input.read(buffer);
    if (n === null) break;
    size += n;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}
