/**
 * `git-credential get` reads git's request up to its blank line: it answers
 * without waiting for the end of its input.
 */
import assert from "node:assert/strict";
import { childEnv, MAIN, runFlags, saveFileAccount, tempConfig } from "../helpers.ts";

Deno.test("git-credential get answers at the request's blank line, stdin still open", async () => {
  await using config = await tempConfig();
  const token = `gho_${"c".repeat(36)}`;
  await saveFileAccount(config.dir, { host: "github.com", login: "octocat", accessToken: token }, {
    clientId: "Iv1.test",
    scopes: ["repo"],
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...runFlags(config.dir), MAIN, "git-credential", "get"],
    env: childEnv(config.home),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  // CRLF lines, as some git builds on Windows send them.
  await writer.write(new TextEncoder().encode("protocol=https\r\nhost=github.com\r\n\r\n"));
  const timeout = AbortSignal.timeout(15_000);
  const status = await Promise.race([
    child.status,
    new Promise<undefined>((resolve) =>
      timeout.addEventListener("abort", () => resolve(undefined))
    ),
  ]);
  if (status === undefined) child.kill();
  await writer.close().catch(() => {});
  const output = await child.output();
  assert.ok(status, "it answered while stdin was open");
  assert.equal(status.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(new TextDecoder().decode(output.stdout), `username=octocat\npassword=${token}\n`);
});
