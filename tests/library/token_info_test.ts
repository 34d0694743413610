/**
 * The library's `tokenInfo` and `execCredential` (what `token --json` and
 * `token --exec-credential` print), for another Deno CLI to hand a stored
 * account to kubectl or any tool.
 */
import assert from "node:assert/strict";
import { execCredential, LoopauthError, tokenInfo } from "../../lib/mod.ts";
import { saveFileAccount, tempConfig } from "../helpers.ts";

Deno.test("tokenInfo: the stored account's token, type, expiry, scopes and source; execCredential wraps it for kubectl", async () => {
  await using config = await tempConfig();
  const token = `gho_${"k".repeat(36)}`;
  for (const login of ["octocat", "hubot"]) {
    await saveFileAccount(config.dir, { host: "ghe.example.com", login, accessToken: token }, {
      scopes: ["repo"],
    });
  }
  const info = await tokenInfo({
    hostname: "ghe.example.com",
    user: "octocat",
    configDir: config.dir,
  });
  assert.deepEqual(info, {
    host: "ghe.example.com",
    login: "octocat",
    token,
    tokenType: "bearer",
    expiresAt: null,
    scopes: ["repo"],
    source: "file",
  });
  assert.deepEqual(execCredential(info), {
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    spec: { interactive: false },
    status: { token },
  });
  // The account named by a variable the caller read (the CLI's LOOPAUTH_USER): its message.
  await assert.rejects(
    tokenInfo({
      hostname: "ghe.example.com",
      user: "nobody",
      userVariable: "MYCLI_USER",
      configDir: config.dir,
    }),
    (error: unknown) =>
      error instanceof LoopauthError && error.code === "not_logged_in" &&
      error.message ===
        "MYCLI_USER names nobody, who is not logged in to ghe.example.com: set MYCLI_USER to octocat or hubot, or unset MYCLI_USER",
  );
});
