/**
 * The standing attack suite: what loopauth defends against. Every test in
 * it is one attack, named "attack: <the attack> → <what the attacker
 * gets>", and asserts that outcome (an HTTP status, an exit code, a file
 * mode, what a listener received). Read the names as the list;
 * docs/security.md gives the promises they check.
 *
 * One file per threat, in this order:
 *
 * 1. tests/security/local_test.ts — other local users and processes: the
 *    callback port (paths, sizes, a race for the login, a barrage with
 *    slowloris connections), kill -9 in the middle of a login, a logout or
 *    a refresh, and what a run prints, shows or leaves behind.
 * 2. tests/security/web_pages_test.ts — web pages in the user's browser:
 *    login CSRF (forged or missing state), DNS rebinding (the Host header),
 *    form posts, script in `error_description`.
 * 3. tests/security/server_test.ts — a malicious or compromised server:
 *    user names with newlines, escapes or keyring commands, tokens with
 *    CR/LF, plain-http endpoints, bad metadata, another issuer's `iss`, a
 *    forged `id_token`, answers that are no OAuth answer.
 * 4. tests/security/config_dir_test.ts — a stolen or tampered config
 *    directory: loose modes, another user's files, a symbolic link for the
 *    lock, an unusable directory, corrupt or tampered files; and
 *    tests/security/passphrase_test.ts, the encrypted store's part of it: a
 *    passphrase file kept in the directory or readable by others, a
 *    `tokens.enc` with weak or malformed scrypt parameters.
 * 5. tests/security/command_line_test.ts — hostile input on the command
 *    line, in the environment and on git's stdin: `api -f` fields, token
 *    variables, host names with passwords, durations, git-credential garbage.
 * 6. tests/security/agent_forward_test.ts — a forwarded agent: what a remote
 *    holder of the key `agent forward` wrote can read (one host's access
 *    token), cannot (other hosts, refresh tokens, client secrets, store
 *    keys) and cannot do (set, delete, stop, mint); every use logged.
 * 7. tests/security/local_users_test.ts — other users of this computer who
 *    read every process's arguments: the browser opener's URL, the one-time
 *    start URL, a callback or access_denied with a stolen state, the device
 *    code, the environment of the browser and the agent.
 * 8. tests/security/dev_server_test.ts — web pages and clients against the
 *    built-in provider (`dev-server`): DNS rebinding (the Host header),
 *    cross-site form posts to its device page (CSRF), bodies larger than
 *    memory.
 * 9. tests/security/env_tokens_test.ts — a token sent where it does not
 *    belong: an environment token checked against a stale stored host, a
 *    loopback request through a proxy, a planted stored token printed raw.
 * 10. tests/security/mcp_resource_test.ts — a malicious MCP server or its
 *    metadata (`mcp-proxy`): metadata naming another resource, authorization
 *    servers or endpoints off https, a redirect to another origin, a server
 *    that asks for more scopes forever, a registration (and its secret)
 *    moved to another authorization server, a session's 401 naming
 *    metadata elsewhere to an SDK client on `mcpAuthProvider`.
 *
 * Run the suite alone with the test task's flags and `tests/security/`.
 * This file checks that it stays readable as that list.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const TESTS = fileURLToPath(new URL("./", import.meta.url));
const SUITE = [
  "local",
  "web_pages",
  "server",
  "config_dir",
  "passphrase",
  "command_line",
  "agent_forward",
  "local_users",
  "dev_server",
  "env_tokens",
  "mcp_resource",
].map((
  threat,
) => `security/${threat}_test.ts`);

/** The names of the `Deno.test`s of a file, read from its source (importing it would run them here). */
function testNames(source: string): { calls: number; names: string[] } {
  const calls = source.match(/\bDeno\.test\(/g)?.length ?? 0;
  const names = [
    ...source.matchAll(/\bDeno\.test\(\s*(?:\{\s*name:\s*)?(["'`])((?:\\.|(?!\1)[^\\])*)\1/g),
  ].map((match) => match[2]);
  return { calls, names };
}

Deno.test('the attack suite: one file per threat, every test in it named "attack: … → …", and no attack outside it', async () => {
  const files = (await Array.fromAsync(Deno.readDir(`${TESTS}security`)))
    .map((entry) => `security/${entry.name}`).sort();
  assert.deepEqual(files, [...SUITE].sort(), "tests/security/ holds the threat files");
  let count = 0;
  for (const file of SUITE) {
    const { calls, names } = testNames(await Deno.readTextFile(`${TESTS}${file}`));
    assert.ok(calls > 0, `${file} has tests`);
    assert.equal(names.length, calls, `${file}: every Deno.test has a literal name`);
    for (const name of names) {
      assert.match(name, /^attack: \S.* → \S/, `${file}: ${JSON.stringify(name)}`);
    }
    count += names.length;
  }
  assert.ok(count >= 40, `the suite holds ${count} attacks`);
  // Everywhere else, a test is about a feature: an attack belongs in the suite.
  for await (const entry of Deno.readDir(TESTS)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const { names } = testNames(await Deno.readTextFile(`${TESTS}${entry.name}`));
    const stray = names.filter((name) => name.startsWith("attack:"));
    assert.deepEqual(stray, [], `tests/${entry.name} holds attacks: move them to tests/security/`);
  }
});
