/**
 * The attack suite, threat 4 (continued): the encrypted store's passphrase
 * and `tokens.enc` itself. A passphrase file kept beside `tokens.enc` (or
 * that other users can read) hands a copy of the config directory its key;
 * a `tokens.enc` with a cheap key derivation (N=1, r=1, a 1-byte salt) is an
 * offline guess away from its tokens, and must neither be decrypted nor
 * kept by a rewrite; a malformed one is exit 8, never an unexpected failure.
 * See tests/security_test.ts.
 */
import assert from "node:assert/strict";
import { scrypt } from "npm:@noble/hashes@^2.0.0/scrypt.js";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import {
  type CliOptions,
  loginArgs,
  loginWith,
  runCli,
  runFlags,
  secretEnv,
  tempDir,
  withProvider,
} from "../helpers.ts";
import { exists } from "../security_helpers.ts";

const PASSPHRASE = "correct horse battery staple";

/** A passphrase file (mode 0600) in a directory of its own, outside every config directory. */
async function passphraseFile(text = PASSPHRASE): Promise<string> {
  const path = `${await tempDir("p")}/passphrase`;
  await Deno.writeTextFile(path, `${text}\n`, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  return path;
}

/** The documented flags for `configHome`, plus read access to `paths` (a passphrase file elsewhere needs it). */
function cliOptions(configHome: string, file: string, ...paths: string[]): CliOptions {
  const env = { LOOPAUTH_PASSPHRASE_FILE: file };
  const flags = runFlags(`${configHome}/loopauth`, env).map((flag) =>
    flag.startsWith("--allow-read=") ? [flag, file, ...paths].join(",") : flag
  );
  return { configHome, env, flags };
}

/** `options` with the dev provider's client secret in the environment too. */
function withSecret(provider: { clientSecret: string }, options: CliOptions): CliOptions {
  return { ...options, env: secretEnv(provider, options.env) };
}

/** Runs a shell command line, as a user would type a hint. */
async function sh(script: string): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-c", script] }).output();
  assert.ok(out.success, `${script}: ${new TextDecoder().decode(out.stderr)}`);
}

function errorLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// tokens.enc as docs/agent.md describes it, written here with any scrypt parameters.

interface Kdf {
  N: number;
  r: number;
  p: number;
  salt: Uint8Array;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function derive(passphrase: string, kdf: Kdf): { key: Uint8Array<ArrayBuffer>; check: string } {
  const bytes = scrypt(new TextEncoder().encode(passphrase.normalize("NFC")), kdf.salt, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    dkLen: 64,
    maxmem: 1024 * kdf.r * (kdf.N + kdf.p) + 1024,
  });
  return { key: new Uint8Array(bytes.slice(0, 32)), check: b64(bytes.slice(32, 48)) };
}

function headerOf(file: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  const { name, N, r, p, salt } = file.kdf as Record<string, unknown>;
  return new TextEncoder().encode(
    JSON.stringify([file.format, file.version, name, N, r, p, salt, file.check]),
  );
}

async function aes(key: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** A whole, valid tokens.enc of `hosts` under `passphrase` with the scrypt parameters `kdf`. */
async function seal(hosts: unknown, passphrase: string, kdf: Kdf): Promise<string> {
  const { key, check } = derive(passphrase, kdf);
  const head = {
    format: "loopauth-encrypted",
    version: 1,
    kdf: { name: "scrypt", N: kdf.N, r: kdf.r, p: kdf.p, salt: b64(kdf.salt) },
    check,
  };
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: headerOf(head) },
    await aes(key),
    new TextEncoder().encode(JSON.stringify({ version: 1, hosts })),
  );
  return JSON.stringify({ ...head, iv: b64(iv), data: b64(new Uint8Array(data)) });
}

/** The hosts a tokens.enc holds (it must decrypt with `passphrase`). */
async function unseal(text: string, passphrase: string): Promise<Record<string, unknown>> {
  const file = JSON.parse(text);
  const { N, r, p, salt } = file.kdf;
  const { key, check } = derive(passphrase, { N, r, p, salt: unb64(salt) });
  assert.equal(check, file.check, "the passphrase opens it");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: unb64(file.iv), additionalData: headerOf(file) },
    await aes(key),
    unb64(file.data),
  );
  return JSON.parse(new TextDecoder().decode(plain)).hosts;
}

const salt = (n: number) => crypto.getRandomValues(new Uint8Array(n));

Deno.test({
  name:
    "attack: the passphrase file lies in the config directory → refused, one line naming where to keep it; a copy of the directory holds no key",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      // A new store: refused before the browser opens, nothing stored.
      const inside = `${dir}/passphrase`;
      await Deno.mkdir(dir, { mode: 0o700 });
      await Deno.chmod(dir, 0o700);
      await Deno.writeTextFile(inside, `${PASSPHRASE}\n`, { mode: 0o600 });
      await Deno.chmod(inside, 0o600);
      const refusal = new RegExp(
        `^Error: Refusing to use LOOPAUTH_PASSPHRASE_FILE ${
          escape(inside)
        }: it is inside the config directory ${
          escape(dir)
        }, so a copy of that directory would decrypt tokens\\.enc: keep it outside ${
          escape(dir)
        }, readable only by you \\(mode 0600\\)$`,
      );
      const requests = provider.requests.length;
      const login = await runCli(
        loginArgs(provider, "--storage", "encrypted"),
        withSecret(provider, cliOptions(configHome, inside)),
      );
      assert.equal(login.code, EXIT_CODES.storage, login.stderr);
      assert.match(errorLine(login.stderr), refusal);
      assert.equal(provider.requests.length, requests, "nothing reached the server");
      assert.equal(await exists(`${dir}/tokens.enc`), false, "nothing was stored");

      // Kept outside (as the line says), the same passphrase works.
      const outside = await passphraseFile();
      const good = await loginWith(
        provider,
        cliOptions(configHome, outside),
        "--storage",
        "encrypted",
      );
      assert.equal(good.code, 0, good.stderr);
      const [token] = provider.activeTokens();
      const host = ["--hostname", provider.origin];
      assert.equal(
        (await runCli(["token", ...host], cliOptions(configHome, outside))).stdout,
        `${token}\n`,
      );

      // An existing store: refused before anything is decrypted, also through a symbolic link.
      const link = `${await tempDir("l")}/passphrase`;
      await sh(`ln -s '${inside}' '${link}'`);
      for (const file of [inside, link]) {
        const out = await runCli(["token", ...host], cliOptions(configHome, file));
        assert.equal(out.code, EXIT_CODES.storage, out.stderr);
        assert.equal(out.stdout, "", "no token printed");
        assert.match(
          errorLine(out.stderr),
          new RegExp(
            `^Error: Refusing to use LOOPAUTH_PASSPHRASE_FILE ${
              escape(file)
            }: it is inside the config directory .*: keep it outside .*, readable only by you \\(mode 0600\\)$`,
          ),
        );
      }
    });
  },
});

Deno.test({
  name:
    "attack: a passphrase file others can read or change (0644/0666/0640/0620, another user's) → refused with the chmod that fixes it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const file = await passphraseFile();
      const options = cliOptions(configHome, file);
      const first = await loginWith(provider, options, "--storage", "encrypted");
      assert.equal(first.code, 0, first.stderr);
      const [token] = provider.activeTokens();
      const host = ["--hostname", provider.origin];
      const tokensEnc = `${configHome}/loopauth/tokens.enc`;
      const before = await Deno.readTextFile(tokensEnc);
      for (
        const [mode, what] of [
          [0o644, "read"],
          [0o666, "read"],
          [0o640, "read"],
          [0o604, "read"],
          [0o620, "change"],
        ] as const
      ) {
        await Deno.chmod(file, mode);
        for (const args of [["token", ...host], loginArgs(provider, "--storage", "encrypted")]) {
          const requests = provider.requests.length;
          const out = await runCli(args, withSecret(provider, options));
          assert.equal(out.code, EXIT_CODES.storage, `${mode.toString(8)}: ${out.stderr}`);
          assert.equal(out.stdout, "", "no token printed");
          assert.equal(
            errorLine(out.stderr),
            `Error: Refusing to use LOOPAUTH_PASSPHRASE_FILE ${file}: other users can ${what} it (mode 0${
              mode.toString(8)
            }): run chmod 600 ${file}`,
          );
          assert.equal(provider.requests.length, requests, "nothing reached the server");
        }
        assert.equal((await Deno.stat(file)).mode! & 0o777, mode, "loopauth leaves its mode alone");
        assert.equal(await Deno.readTextFile(tokensEnc), before, "nothing was written");
      }
      // The hint, run as printed, makes it work.
      const hint = /: run (chmod 600 .*)$/.exec(
        errorLine((await runCli(["token", ...host], options)).stderr),
      )![1];
      await sh(hint);
      const fixed = await runCli(["token", ...host], options);
      assert.deepEqual([fixed.code, fixed.stdout], [0, `${token}\n`], fixed.stderr);

      // Another user's file (only root can hand one over; uid 65534 is nobody). The test
      // process may not ask Deno for its uid: bash tells.
      const uid = new TextDecoder().decode(
        (await new Deno.Command("bash", { args: ["-c", "id -u"] }).output()).stdout,
      ).trim();
      if (uid === "0") {
        await sh(`chown 65534 '${file}'`);
        const out = await runCli(["token", ...host], options);
        assert.equal(out.code, EXIT_CODES.storage, out.stderr);
        assert.equal(
          errorLine(out.stderr),
          `Error: Refusing to use LOOPAUTH_PASSPHRASE_FILE ${file}: it belongs to another user (uid 65534): keep a copy of your own, mode 0600`,
        );
      }
    });
  },
});

Deno.test({
  name:
    "attack: tokens.enc with N=1, r=1, N=2^10 or a 1-byte salt (or a salt that is no base64) → exit 8, one line naming the file; never decrypted with weak parameters",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      const file = await passphraseFile();
      const options = cliOptions(configHome, file);
      const first = await loginWith(provider, options, "--storage", "encrypted");
      assert.equal(first.code, 0, first.stderr);
      const path = `${dir}/tokens.enc`;
      const good = await Deno.readTextFile(path);
      const hosts = await unseal(good, PASSPHRASE);
      const parsed = JSON.parse(good);
      const weakRefusal = new RegExp(
        `^Error: Refusing to use ${
          escape(path)
        }: its key derivation is too weak to protect tokens \\(scrypt N=\\d+, r=\\d+, p=\\d+, a \\d+-byte salt; loopauth needs at least N=2\\^14, r=8, p=1 and 16 bytes\\): restore it, or delete it and log in again$`,
      );
      const damaged = new RegExp(
        `^Error: Cannot read ${
          escape(path)
        }: it is cut short or not a loopauth encrypted tokens file \\(restore it, or delete it and log in again\\)$`,
      );
      const cases: [string, string, RegExp][] = [
        // Decryptable with the right passphrase: a cheap derivation an offline guesser loves.
        [
          "N=2^10",
          await seal(hosts, PASSPHRASE, { N: 2 ** 10, r: 8, p: 1, salt: salt(16) }),
          weakRefusal,
        ],
        [
          "r=1",
          await seal(hosts, PASSPHRASE, { N: 2 ** 14, r: 1, p: 1, salt: salt(16) }),
          weakRefusal,
        ],
        [
          "a 1-byte salt",
          await seal(hosts, PASSPHRASE, { N: 2 ** 14, r: 8, p: 1, salt: salt(1) }),
          weakRefusal,
        ],
        // Headers changed by hand: scrypt would throw on them.
        ["N=1", JSON.stringify({ ...parsed, kdf: { ...parsed.kdf, N: 1 } }), weakRefusal],
        [
          "a salt that is no base64",
          JSON.stringify({ ...parsed, kdf: { ...parsed.kdf, salt: "%%%" } }),
          damaged,
        ],
        ["an IV that is no base64", JSON.stringify({ ...parsed, iv: "%%%" }), damaged],
      ];
      const host = ["--hostname", provider.origin];
      for (const [what, text, message] of cases) {
        await Deno.writeTextFile(path, text);
        for (const args of [["token", ...host], loginArgs(provider, "--storage", "encrypted")]) {
          const requests = provider.requests.length;
          const out = await runCli(args, withSecret(provider, options));
          assert.equal(out.code, EXIT_CODES.storage, `${what}, ${args[0]}: ${out.stderr}`);
          assert.equal(out.stdout, "", `${what}: no token printed`);
          assert.match(errorLine(out.stderr), message, what);
          assert.equal(provider.requests.length, requests, `${what}: nothing reached the server`);
          assert.equal(await Deno.readTextFile(path), text, `${what}: the file stays as it was`);
        }
      }
    });
  },
});

Deno.test("attack: a tokens.enc with a lower (still accepted) scrypt cost → a rewrite never keeps it: written with N=2^17, r=8, p=1 and a new 16-byte salt", async () => {
  await withProvider(async (provider, configHome, dir) => {
    const file = await passphraseFile();
    const options = cliOptions(configHome, file);
    const first = await loginWith(provider, options, "--storage", "encrypted");
    assert.equal(first.code, 0, first.stderr);
    const path = `${dir}/tokens.enc`;
    const hosts = await unseal(await Deno.readTextFile(path), PASSPHRASE);
    const lower = { N: 2 ** 14, r: 8, p: 1, salt: salt(16) };
    await Deno.writeTextFile(path, await seal(hosts, PASSPHRASE, lower));
    const host = ["--hostname", provider.origin];
    const [token] = provider.activeTokens();
    const read = await runCli(["token", ...host], options);
    assert.deepEqual([read.code, read.stdout], [0, `${token}\n`], read.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(path)).kdf.N, 2 ** 14, "a read writes nothing");

    const again = await loginWith(provider, options, "--storage", "encrypted");
    assert.equal(again.code, 0, again.stderr);
    const text = await Deno.readTextFile(path);
    const { kdf } = JSON.parse(text);
    assert.deepEqual([kdf.N, kdf.r, kdf.p], [2 ** 17, 8, 1]);
    assert.equal(unb64(kdf.salt).length, 16);
    assert.notEqual(kdf.salt, b64(lower.salt), "a new salt");
    const stored = await unseal(text, PASSPHRASE) as Record<
      string,
      Record<string, { accessToken: string }>
    >;
    const after = await runCli(["token", ...host], options);
    assert.equal(after.code, 0, after.stderr);
    assert.notEqual(after.stdout, `${token}\n`, "the new login's token");
    assert.equal(`${stored[provider.origin].octocat.accessToken}\n`, after.stdout);
  });
});

Deno.test({
  name:
    "attack: a hard link outside the config directory to a passphrase file inside it → refused, one line: a copy of the directory would hold the key",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withProvider(async (provider, configHome, dir) => {
      await Deno.mkdir(dir, { mode: 0o700 });
      await Deno.chmod(dir, 0o700);
      const inside = `${dir}/passphrase`;
      await Deno.writeTextFile(inside, `${PASSPHRASE}\n`, { mode: 0o600 });
      await Deno.chmod(inside, 0o600);
      const outside = `${await tempDir("h")}/passphrase`;
      await sh(`ln '${inside}' '${outside}'`);
      const requests = provider.requests.length;
      const login = await runCli(
        loginArgs(provider, "--storage", "encrypted"),
        withSecret(provider, cliOptions(configHome, outside)),
      );
      assert.equal(login.code, EXIT_CODES.storage, login.stderr);
      assert.equal(
        errorLine(login.stderr),
        `Error: Refusing to use LOOPAUTH_PASSPHRASE_FILE ${outside}: it has 2 names (hard links), one of which may be in a copy of the config directory: keep a file of its own, mode 0600`,
      );
      assert.equal(provider.requests.length, requests, "nothing reached the server");
      assert.equal(await exists(`${dir}/tokens.enc`), false, "nothing was stored");
    });
  },
});
