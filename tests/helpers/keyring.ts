/**
 * A private Secret Service for the keyring tests: a D-Bus session bus and
 * gnome-keyring of their own, driven through secret-tool.
 * @module
 */
import { tempDir } from "./env.ts";

/** A private Secret Service (D-Bus session bus + gnome-keyring) for tests. */
export interface TestKeyring extends AsyncDisposable {
  /** Environment that points `secret-tool` at this keyring. */
  env: Record<string, string>;
  /** Directory holding the bus socket and the (encrypted) keyring files. */
  dir: string;
  /** What `secret-tool lookup` returns for an account (of `service`, default loopauth), or `undefined`. */
  lookup(host: string, login: string, service?: string): Promise<string | undefined>;
  /** Writes an item where loopauth keeps an account's secrets, as another program could. */
  store(host: string, login: string, secret: string): Promise<void>;
  /** The `host account` of every item of `service` (default loopauth), sorted. */
  items(service?: string): Promise<string[]>;
}

/**
 * Starts `dbus-daemon --session` and an unlocked `gnome-keyring-daemon` in a
 * temporary directory. Throws with a clear message when they cannot start
 * (the tests fail rather than skip).
 */
export async function startKeyring(): Promise<TestKeyring> {
  const dir = await tempDir("keyring");
  const base = {
    HOME: dir,
    XDG_RUNTIME_DIR: `${dir}/run`,
    XDG_DATA_HOME: `${dir}/data`,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  };
  await Deno.mkdir(base.XDG_RUNTIME_DIR, { mode: 0o700 });
  const children: Deno.ChildProcess[] = [];
  const close = async () => {
    for (const child of children.reverse()) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    let bus: Deno.ChildProcess;
    try {
      bus = new Deno.Command("dbus-daemon", {
        // Its socket in the test's directory, not where the session config would put it.
        args: [
          `--config-file=${await busConfig(dir, `${base.XDG_RUNTIME_DIR}/bus`)}`,
          "--nofork",
          "--nopidfile",
          "--print-address=1",
        ],
        env: base,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
    } catch (error) {
      throw new Error(
        `Cannot start dbus-daemon for the keyring tests (Debian: apt install dbus-daemon gnome-keyring libsecret-tools): ${error}`,
      );
    }
    children.push(bus);
    const reader = bus.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let address = "";
    while (!address.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("dbus-daemon exited without printing its address");
      address += value;
    }
    reader.releaseLock();
    bus.stdout.cancel().catch(() => {});
    const env = { ...base, DBUS_SESSION_BUS_ADDRESS: address.trim() };
    const keyring = new Deno.Command("gnome-keyring-daemon", {
      args: ["--foreground", "--unlock", "--components=secrets"],
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(keyring);
    const writer = keyring.stdin.getWriter();
    await writer.write(new TextEncoder().encode("test-password"));
    await writer.close();
    const secretTool = (args: string[], stdin?: string) => {
      const child = new Deno.Command("secret-tool", {
        args,
        env,
        clearEnv: true,
        stdin: stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (stdin !== undefined) {
        const w = child.stdin.getWriter();
        w.write(new TextEncoder().encode(stdin)).then(() => w.close());
      }
      return child.output();
    };
    // A bound, not a wait: the loop ends when the keyring answers. On a 2-core machine
    // running several suites gnome-keyring has taken over 10 s to answer.
    let exited = false;
    keyring.status.then(() => (exited = true));
    const deadline = Date.now() + 30_000;
    while (true) {
      const ready = await secretTool(["store", "--label=ready", "loopauth-test", "ready"], "1");
      if (ready.success) break;
      if (exited || Date.now() > deadline) {
        throw new Error(
          `gnome-keyring did not start: ${new TextDecoder().decode(ready.stderr).trim()}`,
        );
      }
      await new Promise((wake) => setTimeout(wake, 50));
    }
    return {
      env: { DBUS_SESSION_BUS_ADDRESS: env.DBUS_SESSION_BUS_ADDRESS },
      dir,
      async lookup(host, login, service = "loopauth") {
        const output = await secretTool([
          "lookup",
          "service",
          service,
          "host",
          host,
          "account",
          login,
        ]);
        return output.success ? new TextDecoder().decode(output.stdout) : undefined;
      },
      async items(service = "loopauth") {
        const output = await secretTool(["search", "--all", "service", service]);
        // One block per item: its attributes as `attribute.NAME = VALUE` lines (stdout or stderr).
        const text = new TextDecoder().decode(output.stdout) +
          new TextDecoder().decode(output.stderr);
        const items: string[] = [];
        for (const block of text.split(/^\[/m).slice(1)) {
          const value = (name: string) =>
            block.match(new RegExp(`^attribute\\.${name} = (.*)$`, "m"))?.[1] ?? "";
          items.push(`${value("host")} ${value("account")}`);
        }
        return items.sort();
      },
      async store(host, login, secret) {
        const output = await secretTool(
          ["store", "--label=other", "service", "loopauth", "host", host, "account", login],
          secret,
        );
        if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
      },
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A session bus's configuration without service activation: with the
 * session's service directories, a `secret-tool` call made before the test's
 * gnome-keyring has claimed its name started another (locked) one from
 * /usr/share/dbus-1/services, which took the name, and the test's exited.
 */
async function busConfig(dir: string, socket: string): Promise<string> {
  const path = `${dir}/bus.conf`;
  await Deno.writeTextFile(
    path,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
    { mode: 0o600 },
  );
  return path;
}
