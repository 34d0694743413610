/** The state files of two-step logins: modes, the checks on reading, ids that are never paths. */
import assert from "node:assert/strict";
import { LoopauthError } from "../../lib/core/errors.ts";
import {
  isLoginId,
  newLoginId,
  pendingLoginPath,
  readPendingLogin,
  removePendingLogin,
  writePendingLogin,
} from "../../lib/store/pending_logins.ts";
import { tempDir } from "../helpers.ts";

const EXPIRES_AT = new Date(Date.now() + 60_000).toISOString();
const login = (id: string) => ({
  id,
  pid: 4242,
  port: 40000,
  key: "a".repeat(64),
  expiresAt: EXPIRES_AT,
});

Deno.test("a state file is written 0600 in a 0700 directory, read back, and removed only with its key", async () => {
  const dir = await tempDir();
  try {
    const id = newLoginId();
    assert.ok(isLoginId(id));
    await writePendingLogin(dir, login(id));
    assert.equal((await Deno.stat(`${dir}/logins`)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(pendingLoginPath(dir, id))).mode! & 0o777, 0o600);
    assert.deepEqual(await readPendingLogin(dir, id), login(id));
    await removePendingLogin(dir, id, "b".repeat(64));
    assert.ok(await readPendingLogin(dir, id), "another key removes nothing");
    await removePendingLogin(dir, id, "a".repeat(64));
    assert.equal(await readPendingLogin(dir, id), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a state file or directory others may use is refused with the chmod that fixes it; an id that is a path is a usage error", async () => {
  const dir = await tempDir();
  try {
    const id = newLoginId();
    const path = await writePendingLogin(dir, login(id));
    await Deno.chmod(path, 0o644);
    await assert.rejects(
      () => readPendingLogin(dir, id),
      (error: unknown) =>
        error instanceof LoopauthError && error.code === "storage" &&
        error.message ===
          `Refusing to use ${path}: other users may use it (mode 0644): run chmod 600 ${path}`,
    );
    await Deno.chmod(path, 0o600);
    await Deno.chmod(`${dir}/logins`, 0o755);
    await assert.rejects(
      () => readPendingLogin(dir, id),
      (error: unknown) =>
        error instanceof LoopauthError && error.message.endsWith(`run chmod 700 ${dir}/logins`),
    );
    await Deno.chmod(`${dir}/logins`, 0o700);
    await Deno.writeTextFile(path, "{}", { mode: 0o600 });
    await assert.rejects(
      () => readPendingLogin(dir, id),
      (error: unknown) =>
        error instanceof LoopauthError &&
        error.message === `Refusing to use ${path}: it is not a login's state file`,
    );
    for (const bad of ["../tokens", "0123456789ABCDEF", "0123456789abcde"]) {
      await assert.rejects(
        () => readPendingLogin(dir, bad),
        (error: unknown) => error instanceof LoopauthError && error.code === "usage",
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
