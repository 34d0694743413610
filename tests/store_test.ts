import assert from "node:assert/strict";
import { LoopauthError } from "../lib/errors.ts";
import { configDir } from "../lib/store/paths.ts";
import {
  credentialsPath,
  readAccount,
  removeAccount,
  saveAccount,
  type StoredAccount,
} from "../lib/store/file.ts";
import { tempConfig } from "./helpers.ts";

const account = (host: string, token = "gho_secret"): StoredAccount => ({
  host,
  login: "octocat",
  clientId: "Iv1.abc",
  token: { accessToken: token, tokenType: "bearer", scopes: ["repo"] },
  createdAt: new Date(0).toISOString(),
});

Deno.test("config dir follows XDG_CONFIG_HOME, HOME and APPDATA", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(
    configDir({ env: env({ XDG_CONFIG_HOME: "/x", HOME: "/h" }), os: "linux" }),
    "/x/loopauth",
  );
  assert.equal(configDir({ env: env({ HOME: "/h" }), os: "linux" }), "/h/.config/loopauth");
  assert.equal(configDir({ env: env({ HOME: "/h" }), os: "darwin" }), "/h/.config/loopauth");
  assert.match(
    configDir({ env: env({ APPDATA: "C:\\Users\\me\\AppData\\Roaming" }), os: "windows" }),
    /Roaming.loopauth$/,
  );
  assert.throws(
    () => configDir({ env: env({}), os: "linux" }),
    (e) => e instanceof LoopauthError && e.code === "storage",
  );
});

Deno.test({
  name: "the token file is 0600 in a 0700 directory, replaced atomically",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using config = await tempConfig();
    await Deno.mkdir(config.dir, { mode: 0o755 });
    await Deno.chmod(config.dir, 0o755); // a loose directory is tightened
    const path = await saveAccount(account("github.com"), { dir: config.dir });
    assert.equal(path, credentialsPath({ dir: config.dir }));
    assert.equal((await Deno.stat(config.dir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const inode = (await Deno.stat(path)).ino;
    await saveAccount(account("ghe.example.com", "gho_other"), { dir: config.dir });
    assert.notEqual((await Deno.stat(path)).ino, inode, "a new file was renamed over the old one");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const names = [...Deno.readDirSync(config.dir)].map((e) => e.name);
    assert.deepEqual(names, ["credentials.json"], "no temp file left behind");
    assert.equal(
      (await readAccount("github.com", { dir: config.dir }))?.token.accessToken,
      "gho_secret",
    );
    assert.equal(
      (await readAccount("ghe.example.com", { dir: config.dir }))?.token.accessToken,
      "gho_other",
    );
    assert.equal(await removeAccount("github.com", { dir: config.dir }), true);
    assert.equal(await removeAccount("github.com", { dir: config.dir }), false);
    assert.equal(await readAccount("github.com", { dir: config.dir }), undefined);
    assert.equal(await readAccount("toString", { dir: config.dir }), undefined);
  },
});

Deno.test("a corrupted credentials file is a clear error naming it", async () => {
  await using config = await tempConfig();
  await Deno.mkdir(config.dir);
  for (const text of ["{not json", "[]", '{"hosts": 3}', "null"]) {
    await Deno.writeTextFile(`${config.dir}/credentials.json`, text);
    await assert.rejects(
      () => readAccount("github.com", { dir: config.dir }),
      (e) =>
        e instanceof LoopauthError && e.code === "storage" &&
        e.message.includes(`${config.dir}/credentials.json`),
    );
  }
});
