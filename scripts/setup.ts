/**
 * Installs the real programs the tests drive: Debian packages (with
 * apt-get, when run as root on Debian) and npm packages in `.tools/`. With
 * `--bench`, only the peers `deno task bench` measures against.
 * Idempotent and quick when everything is there; elsewhere it prints what
 * to install, and the tests that need it fail with a clear message.
 */

/** Debian packages the tests drive (`a|b`: either will do, as in Debian's dependencies). */
export const DEBIAN_PACKAGES = [
  "chromium", // the browser tests
  "tmux", // the terminal tests
  "gnome-keyring", // a real Secret Service for the keyring tests
  "libsecret-tools", // secret-tool
  "dbus-x11",
  "dbus-daemon",
  "git", // git credential fill against the helper; clone and push to the dev-server
  "gh", // GitHub's CLI against the dev-server (Debian's: 2.23)
  "openssl", // the dev-server's https certificate
  "socat", // a relay in front of the agent's socket, as ssh -R is
  // kubectl runs token --exec-credential as its exec plugin; another package's kubectl (Google
  // Cloud SDK's `kubectl`) counts too, and the two cannot both be installed: Debian's `a|b`.
  "kubernetes-client|kubectl",
];
/** Debian packages of the benchmarks' peers (`--bench`). */
export const BENCH_DEBIAN_PACKAGES = [
  "gh", // gh auth token, against token and git-credential
  "python3-google-auth-oauthlib", // the google-auth-oauthlib login peer
];
/**
 * npm packages the tests run under Node (playwright-core needs Node: under Deno it wants
 * --allow-all; oidc-provider, a certified OpenID Provider, reads more env than the tests grant).
 */
export const NPM_PACKAGES = ["playwright-core@1.65.1", "oidc-provider@9.13.3"];

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(cmd, {
      args,
      env,
      stdout: "null",
      stderr: "inherit",
    })
      .output();
    return success;
  } catch {
    return false;
  }
}

async function installed(name: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("dpkg-query", {
      args: ["-W", "-f=${Status}", name],
      stderr: "null",
    })
      .output();
    return new TextDecoder().decode(out.stdout).includes("install ok installed");
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const bench = Deno.args.includes("--bench");
  const missing: string[] = [];
  for (const entry of bench ? BENCH_DEBIAN_PACKAGES : DEBIAN_PACKAGES) {
    // `a|b`: any one of them will do; the first is installed when none is.
    const names = entry.split("|");
    let found = false;
    for (const name of names) found ||= await installed(name);
    if (!found) missing.push(names[0]);
  }
  if (missing.length > 0) {
    if (Deno.build.os === "linux" && Deno.uid() === 0) {
      console.error(`setup: installing Debian packages: ${missing.join(" ")}`);
      const env = { DEBIAN_FRONTEND: "noninteractive" };
      const ok = await run("apt-get", ["update", "-qq"], env) &&
        await run("apt-get", ["install", "-y", "-qq", ...missing], env);
      if (!ok) {
        console.error(
          bench
            ? "setup: apt-get failed; the benchmarks skip the missing peers and say so"
            : "setup: apt-get failed; the tests that need these programs will fail",
        );
      }
    } else {
      console.error(`setup: please install ${missing.join(", ")} (the tests drive them for real)`);
    }
  }
  const absent = [];
  for (const spec of bench ? [] : NPM_PACKAGES) {
    const name = spec.replace(/@[^@/]+$/, "");
    try {
      await Deno.stat(`.tools/node_modules/${name}/package.json`);
    } catch {
      absent.push(spec);
    }
  }
  if (absent.length > 0) {
    console.error(`setup: installing npm packages into .tools/: ${absent.join(" ")}`);
    const ok = await run("npm", [
      "install",
      "--prefix",
      ".tools",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      ...absent,
    ]);
    if (!ok) console.error("setup: npm install failed; the browser and issuer tests will fail");
  }
}
