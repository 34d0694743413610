import assert from "node:assert/strict";
import { chooseFlow, type FlowEnvironment, sshForwardCommand } from "../../lib/flows/choose.ts";

const SSH = "10.1.2.3 50000 10.9.8.7 22";

function environment(
  env: Record<string, string>,
  extra: Partial<FlowEnvironment> = {},
): FlowEnvironment {
  return {
    env,
    os: "linux",
    isContainer: () => false,
    hasCommand: () => Promise.resolve(false),
    ...extra,
  };
}

Deno.test("the flow fits the environment", async () => {
  const cases: [string, FlowEnvironment, string[], RegExp][] = [
    ["ssh, no display", environment({ SSH_CONNECTION: SSH }), ["device", "web"], /SSH session/],
    ["ssh tty only", environment({ SSH_TTY: "/dev/pts/1" }), ["device", "web"], /SSH session/],
    ["ssh with X forwarding", environment({ SSH_CONNECTION: SSH, DISPLAY: "localhost:10.0" }), [
      "web",
    ], /browser can open/],
    ["desktop linux", environment({ DISPLAY: ":0" }), ["web"], /browser can open/],
    ["wayland", environment({ WAYLAND_DISPLAY: "wayland-0" }), ["web"], /browser can open/],
    ["headless linux", environment({}), ["device", "web"], /no display .* and no \$BROWSER/],
    ["headless with $BROWSER", environment({ BROWSER: "w3m" }), ["web"], /\$BROWSER is set/],
    [
      "container with $BROWSER",
      environment({ BROWSER: "/usr/bin/open-elsewhere" }, { isContainer: () => true }),
      ["device", "web"],
      /container without a display/,
    ],
    [
      "container",
      environment({}, { isContainer: () => true }),
      ["device", "web"],
      /container without a display/,
    ],
    [
      "container with a display",
      environment({ DISPLAY: ":0" }, { isContainer: () => true }),
      ["web"],
      /browser can open/,
    ],
    [
      "WSL without wslview",
      environment({ WSL_DISTRO_NAME: "Ubuntu" }),
      ["device", "web"],
      /WSL without wslview/,
    ],
    [
      "WSL with wslview",
      environment({ WSL_DISTRO_NAME: "Ubuntu" }, {
        hasCommand: (name) => Promise.resolve(name === "wslview"),
      }),
      ["web"],
      /wslview opens/,
    ],
    ["macOS", environment({}, { os: "darwin" }), ["web"], /browser can open/],
    ["Windows", environment({}, { os: "windows" }), ["web"], /browser can open/],
  ];
  for (const [name, env, flows, reason] of cases) {
    const choice = await chooseFlow({ environment: env });
    assert.deepEqual(choice.flows, flows, name);
    assert.match(choice.reason, reason, name);
    assert.equal(choice.forwardCommand !== undefined, /SSH/.test(choice.reason), name);
    if (flows.length === 2) assert.match(choice.reason, /every route runs/, name);
  }
});

Deno.test("a remembered flow comes first; where a browser is uncertain it never removes a route", async () => {
  const desktop = await chooseFlow({
    remembered: "device",
    host: "github.com",
    environment: environment({ DISPLAY: ":0" }),
  });
  assert.deepEqual(desktop.flows, ["device", "web"]);
  assert.equal(
    desktop.reason,
    "the device flow worked last time for github.com; the browser flow runs too",
  );
  const headless = await chooseFlow({ remembered: "web", environment: environment({}) });
  assert.deepEqual(headless.flows, ["web", "device"]);
  const container = await chooseFlow({
    remembered: "device",
    environment: environment({}, { isContainer: () => true }),
  });
  assert.deepEqual(container.flows, ["device", "web"]);
  const desktopWeb = await chooseFlow({
    remembered: "web",
    environment: environment({ DISPLAY: ":0" }),
  });
  assert.deepEqual(desktopWeb.flows, ["web"]);
  const ssh = await chooseFlow({
    remembered: "web",
    environment: environment({ SSH_CONNECTION: SSH }),
  });
  assert.deepEqual(ssh.flows, ["web", "device"]);
});

Deno.test("the ssh -L command names the server and its port", () => {
  assert.equal(
    sshForwardCommand(43123, { SSH_CONNECTION: SSH }),
    "ssh -L 43123:127.0.0.1:43123 10.9.8.7",
  );
  assert.equal(
    sshForwardCommand(8000, { SSH_CONNECTION: "::1 5 fe80::1 2222" }),
    "ssh -L 8000:127.0.0.1:8000 -p 2222 fe80::1",
  );
  assert.equal(
    sshForwardCommand(8000, { SSH_TTY: "/dev/pts/0" }),
    "ssh -L 8000:127.0.0.1:8000 THIS_HOST",
  );
  // Nothing from the environment reaches the command unchecked.
  assert.equal(
    sshForwardCommand(8000, { SSH_CONNECTION: "a b $(rm -rf) 22" }),
    "ssh -L 8000:127.0.0.1:8000 THIS_HOST",
  );
});
