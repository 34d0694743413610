/** lib/store/agent_paths.ts: where the agent listens, and the fallback for paths too long. */
import assert from "node:assert/strict";
import {
  agentSocketPath,
  defaultAgentSocket,
  fitsSocket,
  MAX_SOCKET_PATH,
  shortAgentDir,
} from "../../lib/store/agent_paths.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
const long = `/home/${"a".repeat(90)}`;

Deno.test("fitsSocket: 103 bytes fit, 104 do not; bytes, not characters", () => {
  assert.equal(MAX_SOCKET_PATH, 103);
  assert.equal(fitsSocket(`/${"a".repeat(102)}`), true);
  assert.equal(fitsSocket(`/${"a".repeat(103)}`), false);
  assert.equal(fitsSocket(`/${"é".repeat(52)}`), false, "105 bytes in 53 characters");
});

Deno.test("defaultAgentSocket: the runtime dir, else the config dir; too long: TMPDIR or /tmp, per uid", () => {
  const uid = 1000;
  assert.equal(
    defaultAgentSocket({ env: envOf({ XDG_RUNTIME_DIR: "/run/user/1000" }), uid }),
    "/run/user/1000/loopauth/agent.sock",
  );
  assert.equal(
    defaultAgentSocket({ env: envOf({}), configDir: "/home/u/.config/loopauth", uid }),
    "/home/u/.config/loopauth/agent/agent.sock",
  );
  // Too long: the short directory, in TMPDIR when it is absolute (trailing slashes dropped).
  assert.equal(
    defaultAgentSocket({ env: envOf({}), configDir: long, uid }),
    "/tmp/loopauth-1000/agent.sock",
  );
  assert.equal(
    defaultAgentSocket({ env: envOf({ XDG_RUNTIME_DIR: long, TMPDIR: "/var/tmp//" }), uid }),
    "/var/tmp/loopauth-1000/agent.sock",
  );
  assert.equal(shortAgentDir(0, { env: envOf({ TMPDIR: "relative/tmp" }) }), "/tmp/loopauth-0");
  // Clients find the same socket unless LOOPAUTH_AGENT names one.
  const env = envOf({ XDG_RUNTIME_DIR: long });
  assert.equal(agentSocketPath({ env, uid }), defaultAgentSocket({ env, uid }));
  assert.equal(
    agentSocketPath({ env: envOf({ XDG_RUNTIME_DIR: long, LOOPAUTH_AGENT: "/s/a.sock" }), uid }),
    "/s/a.sock",
  );
  // A fallback that is itself too long stays as it is: the agent refuses it in one line.
  const longTmp = `/${"t".repeat(100)}`;
  assert.equal(
    defaultAgentSocket({ env: envOf({ TMPDIR: longTmp }), configDir: long, uid }),
    `${longTmp}/loopauth-1000/agent.sock`,
  );
});
