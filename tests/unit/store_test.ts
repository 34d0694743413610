import assert from "node:assert/strict";
import { LoopauthError } from "../../lib/core/errors.ts";
import { configDir } from "../../lib/store/paths.ts";
import {
  findAccount,
  removeAccount,
  saveAccount,
  setActiveAccount,
  type StoredAccount,
} from "../../lib/store/accounts.ts";
import { fileStore, secretsFilePath } from "../../lib/store/file.ts";
import { configPath, readConfig } from "../../lib/store/config.ts";
import { parseStorage } from "../../lib/store/secret_store.ts";
import { tempConfig } from "../helpers.ts";

const account = (host: string, token = "gho_secret", login = "octocat"): StoredAccount => ({
  host,
  login,
  clientId: "Iv1.abc",
  clientSecret: "shh",
  token: { accessToken: token, tokenType: "bearer", scopes: ["repo"] },
  createdAt: new Date(0).toISOString(),
  storage: "file",
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
  name: "file store: 0600 files in a 0700 directory, replaced atomically, secrets apart",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using config = await tempConfig();
    const dir = config.dir;
    await Deno.mkdir(dir, { mode: 0o755 });
    await Deno.chmod(dir, 0o755); // a loose directory is tightened
    const options = { dir };
    await saveAccount(account("github.com"), fileStore(options), options);
    const path = secretsFilePath(options);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(configPath(dir))).mode! & 0o777, 0o600);
    const inode = (await Deno.stat(path)).ino;
    await saveAccount(account("ghe.example.com", "gho_other"), fileStore(options), options);
    assert.notEqual((await Deno.stat(path)).ino, inode, "a new file was renamed over the old one");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["config.json", "lock", "tokens.json"], "no temp file left behind");
    const configText = await Deno.readTextFile(configPath(dir));
    for (const secret of ["gho_secret", "gho_other", "shh"]) {
      assert.ok(!configText.includes(secret), "no secret in config.json");
    }
    assert.equal(
      (await findAccount("github.com", undefined, options))?.token.accessToken,
      "gho_secret",
    );
    assert.equal((await findAccount("github.com", undefined, options))?.clientSecret, "shh");
    assert.equal(
      (await findAccount("ghe.example.com", "octocat", options))?.token.accessToken,
      "gho_other",
    );
    assert.equal(await removeAccount("github.com", "octocat", options), true);
    assert.equal(await removeAccount("github.com", "octocat", options), false);
    assert.equal(await findAccount("github.com", undefined, options), undefined);
    assert.equal(await findAccount("toString", undefined, options), undefined);
    assert.ok(!(await Deno.readTextFile(path)).includes("gho_secret"));
  },
});

Deno.test("several accounts per host: the last login is active, switch changes it", async () => {
  await using config = await tempConfig();
  const options = { dir: config.dir };
  const store = fileStore(options);
  await saveAccount(account("github.com", "gho_a", "octocat"), store, options);
  await saveAccount(account("github.com", "gho_b", "hubot"), store, options);
  assert.equal((await findAccount("github.com", undefined, options))?.login, "hubot");
  assert.equal((await findAccount("github.com", "octocat", options))?.token.accessToken, "gho_a");
  await setActiveAccount("github.com", "octocat", options);
  assert.equal((await findAccount("github.com", undefined, options))?.login, "octocat");
  await assert.rejects(
    () => setActiveAccount("github.com", "nobody", options),
    (e) => e instanceof LoopauthError && e.code === "not_logged_in",
  );
  await removeAccount("github.com", "octocat", options);
  assert.equal(readConfig(config.dir).hosts["github.com"].active, "hubot");
});

Deno.test("corrupted config or tokens files are clear errors naming the file", async () => {
  await using config = await tempConfig();
  await Deno.mkdir(config.dir, { mode: 0o700 });
  const options = { dir: config.dir };
  const bad = [
    "{not json",
    "[]",
    '{"hosts": 3}',
    "null",
    '{"version":1,"hosts":{"h":{"accounts":{"a":{}}}}}',
  ];
  for (const text of bad) {
    await Deno.writeTextFile(configPath(config.dir), text, { mode: 0o600 });
    await assert.rejects(
      () => findAccount("github.com", undefined, options),
      (e) =>
        e instanceof LoopauthError && e.code === "storage" &&
        e.message ===
          `Cannot read ${config.dir}/config.json: it is not a valid loopauth config file (fix or delete it)`,
    );
  }
  await Deno.remove(configPath(config.dir));
  await saveAccount(account("github.com"), fileStore(options), options);
  await Deno.writeTextFile(secretsFilePath(options), '{"hosts":{"github.com":{"octocat":7}}}', {
    mode: 0o600,
  });
  await assert.rejects(
    () => findAccount("github.com", undefined, options),
    (e) => e instanceof LoopauthError && e.code === "storage" && e.message.includes("tokens.json"),
  );
  // A pre-release credentials.json is ignored, not a crash.
  await Deno.writeTextFile(`${config.dir}/credentials.json`, '{"version":1,"hosts":{}}', {
    mode: 0o600,
  });
  await Deno.remove(secretsFilePath(options));
  await assert.rejects(
    () => findAccount("github.com", undefined, options),
    (e) =>
      e instanceof LoopauthError && e.code === "not_logged_in" &&
      /The token of octocat on github\.com is missing from .*tokens\.json: run loopauth login$/
        .test(e.message),
  );
});

Deno.test("--storage values", () => {
  assert.equal(parseStorage("keyring"), "keyring");
  assert.equal(parseStorage("file"), "file");
  assert.equal(parseStorage("agent"), "agent");
  assert.equal(parseStorage("encrypted"), "encrypted");
  assert.equal(parseStorage(undefined), undefined);
  assert.throws(
    () => parseStorage("disk"),
    /Invalid storage "disk": use keyring, file, agent or encrypted/,
  );
});

Deno.test("paths join and split on each platform's separator", async () => {
  const { joinPath, parentDir } = await import("../../lib/store/paths.ts");
  const linux = { os: "linux" };
  const windows = { os: "windows" };
  assert.equal(joinPath("/home/me/.config", "loopauth", linux), "/home/me/.config/loopauth");
  assert.equal(joinPath("/home/me/.config//", "loopauth", linux), "/home/me/.config/loopauth");
  assert.equal(joinPath("/", "lock", linux), "/lock");
  assert.equal(joinPath("a\\", "b", linux), "a\\/b"); // a backslash is a name character on Linux
  assert.equal(joinPath("C:\\Users\\me\\", "loopauth", windows), "C:\\Users\\me\\loopauth");
  assert.equal(joinPath("C:\\", "loopauth", windows), "C:\\loopauth");
  assert.equal(parentDir("/h/.config/loopauth/config.json", linux), "/h/.config/loopauth");
  assert.equal(parentDir("/config.json", linux), "/");
  assert.equal(parentDir("config.json", linux), ".");
  assert.equal(
    parentDir("C:\\Users\\me\\loopauth\\tokens.json", windows),
    "C:\\Users\\me\\loopauth",
  );
  assert.equal(parentDir("C:\\tokens.json", windows), "C:\\");
  assert.equal(parentDir("C:/x/tokens.json", windows), "C:/x");
});

Deno.test("the config is replaced only after the secret is stored: a failed secret leaves both files as they were", async () => {
  await using config = await tempConfig();
  const store = fileStore({ dir: config.dir });
  await saveAccount(account("github.com", "gho_first"), store, { dir: config.dir });
  const before = await Deno.readTextFile(configPath(config.dir));
  const broken = {
    ...store,
    set: async () => {
      await new Promise((done) => queueMicrotask(() => done(undefined)));
      throw new LoopauthError("storage", "The keyring refused it");
    },
  };
  await assert.rejects(
    saveAccount(account("github.com", "gho_second", "hubot"), broken, { dir: config.dir }),
    (e) => e instanceof LoopauthError && e.message === "The keyring refused it",
  );
  assert.equal(await Deno.readTextFile(configPath(config.dir)), before);
  const names = [];
  for await (const entry of Deno.readDir(config.dir)) names.push(entry.name);
  assert.deepEqual(names.filter((n) => n.endsWith(".tmp")), [], "no temp file left");
  assert.equal((await findAccount("github.com", undefined, { dir: config.dir }))?.login, "octocat");
});
