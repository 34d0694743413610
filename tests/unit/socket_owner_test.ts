import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { emptyDir } from "../helpers.ts";
import { listenerOwner, loopbackListener, socketOwner } from "../../lib/platform/socket_owner.ts";

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const row = (local: string, remote: string, st: string, uid: number, inode: number) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000 ${uid} 0 ${inode}\n`;
const V6_ANY = "00000000000000000000000000000000";
const V6_LOOPBACK = "00000000000000000000000001000000";

Deno.test("a resumed login's waiter is judged by its listening socket, not by a connection it has not accepted yet", async () => {
  // The waiter (uid 1000) listens; the connection just made is in its accept queue: inode 0.
  const table = HEADER + row("0100007F:1F90", "00000000:0000", "0A", 1000, 4242) +
    row("0100007F:1F90", "0100007F:A000", "01", 0, 0) +
    row("0100007F:A000", "0100007F:1F90", "01", 1000, 4243);
  const verdict = await loopbackListener(0x1f90, {
    table: () => Promise.resolve(table),
    uid: 1000,
  });
  assert.equal(verdict, "own");
});

Deno.test("another user's listener on ::1 or a v6-only :: beside the waiter blocks nothing: only 127.0.0.1's listener takes the connection", async () => {
  const table = HEADER + row("0100007F:1F90", "00000000:0000", "0A", 1000, 4242) +
    row(`${V6_LOOPBACK}:1F90`, `${V6_ANY}:0000`, "0A", 65534, 7) +
    row(`${V6_ANY}:1F90`, `${V6_ANY}:0000`, "0A", 65534, 8);
  assert.equal(listenerOwner(table, 0x1f90), 1000);
  const verdict = await loopbackListener(0x1f90, {
    table: () => Promise.resolve(table),
    uid: 1000,
  });
  assert.equal(verdict, "own");
});

Deno.test("a dead waiter's port held by another user's wildcard listener, or by nobody, is foreign; an unreadable table is unknown", async () => {
  const table = HEADER + row("00000000:1F90", "00000000:0000", "0A", 65534, 7) +
    row("0100007F:1F91", "00000000:0000", "0A", 65534, 9);
  const read = () => Promise.resolve(table);
  assert.equal(await loopbackListener(0x1f90, { table: read, uid: 1000 }), "foreign");
  assert.equal(await loopbackListener(0x1f91, { table: read, uid: 1000 }), "foreign");
  assert.equal(await loopbackListener(0x1f92, { table: read, uid: 1000 }), "foreign");
  assert.equal(
    await loopbackListener(0x1f90, { table: () => Promise.resolve(undefined), uid: 1000 }),
    "unknown",
  );
});

/** The tables' parsing before it looked only at the rows naming the port: every row split. */
function everyRow(table: string, serverPort: number, peerPort: number): number | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  const loopback = ["0100007F", "0000000000000000FFFF00000100007F", V6_LOOPBACK];
  const local = loopback.map((ip) => `${ip}:${hex(peerPort)}`);
  const remote = loopback.map((ip) => `${ip}:${hex(serverPort)}`);
  for (const line of table.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    if (!local.includes(fields[1].toUpperCase()) || !remote.includes(fields[2].toUpperCase())) {
      continue;
    }
    if (fields[3] !== "01" || fields[9] === "0") continue;
    const uid = Number(fields[7]);
    if (Number.isInteger(uid)) return uid;
  }
  return undefined;
}

Deno.test("a busy host's table (30,000 TIME_WAIT rows from the same ports) still names the browser's socket, and only it", () => {
  // The server's own end of the connection names the peer's port too, as rem_address.
  let table = HEADER;
  for (let i = 0; i < 30_000; i++) {
    table += row(
      `0100007F:${(0x8000 + i % 0x7000).toString(16).toUpperCase()}`,
      "0100007F:1F90",
      "06",
      0,
      0,
    );
  }
  table += row("0100007F:1F90", "0100007F:A000", "01", 1000, 4242) +
    row("0100007f:a000", "0100007f:1f90", "01", 1001, 4243); // lower-case hex, as a kernel might
  assert.equal(socketOwner(table, 0x1f90, 0xa000), 1001);
  assert.equal(socketOwner(table, 0x1f90, 0x8001), undefined, "TIME_WAIT rows have no owner");
  assert.equal(socketOwner(table, 0x1f91, 0xa000), undefined);
});

/** listenerOwner before it looked only at the rows naming the port: every row split. */
function everyRowListener(table: string, port: number): number | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of table.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== "0A" || fields[1].toUpperCase() !== local) continue;
    const uid = Number(fields[7]);
    if (Number.isInteger(uid)) return uid;
  }
  return undefined;
}

Deno.test("property: the socket and listener owners are what splitting every row of the table finds, whatever the case and spacing", () => {
  const port = fc.constantFrom(0x1f90, 0x1f91, 0xa000, 0xa001);
  const address = fc.constantFrom(
    "0100007F",
    "0200007F",
    "0000000000000000FFFF00000100007F",
    V6_LOOPBACK,
    "00000000",
  );
  // Each character upper or lower case at random (Linux writes upper case only).
  const anyCase = (text: string) =>
    fc.array(fc.boolean(), { minLength: text.length, maxLength: text.length })
      .map((flags) => [...text].map((c, i) => flags[i] ? c.toLowerCase() : c).join(""));
  const field = (a: fc.Arbitrary<string>, p: fc.Arbitrary<number>) =>
    fc.tuple(a, p).chain(([ip, n]) => anyCase(`${ip}:${n.toString(16).toUpperCase()}`));
  const line = fc.record({
    local: field(address, port),
    remote: field(address, port),
    st: fc.constantFrom("01", "06", "0A", "0a"),
    uid: fc.constantFrom(0, 1000, 65534),
    inode: fc.constantFrom(0, 7),
    space: fc.constantFrom(" ", "  ", "\t"),
  }).map((r) =>
    `   0: ${r.local}${r.space}${r.remote}${r.space}${r.st} 00000000:00000000 00:00000000 00000000 ${r.uid} 0 ${r.inode}\n`
  );
  let owned = 0;
  let listened = 0;
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), port, port, (rows, server, peer) => {
      const table = HEADER + rows.join("");
      const expected = everyRow(table, server, peer);
      if (expected !== undefined) owned++;
      assert.equal(socketOwner(table, server, peer), expected);
      const listener = everyRowListener(table, server);
      if (listener !== undefined) listened++;
      assert.equal(listenerOwner(table, server), listener);
    }),
    { numRuns: 3000 },
  );
  assert.ok(owned >= 10, `the property met tables with an owner (${owned})`);
  assert.ok(listened >= 10, `the property met tables with a listener (${listened})`);
});

Deno.test(
  "the socket table is read with grep (only the rows naming the port) or, with only cat allowed, cat: both find this user's connection and listener",
  {
    ignore: Deno.build.os !== "linux",
  },
  async () => {
    const probe = new URL("../fixtures/socket_owner_probe.ts", import.meta.url).pathname;
    const run = async (programs: string, path = Deno.env.get("PATH") ?? "/usr/bin:/bin") => {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          "--allow-net=127.0.0.1",
          "--allow-sys=uid",
          `--allow-run=${programs}`,
          probe,
        ],
        env: {
          PATH: path,
          ...Object.fromEntries(
            ["HOME", "DENO_DIR"].flatMap((name) => {
              const value = Deno.env.get(name);
              return value === undefined ? [] : [[name, value]];
            }),
          ),
        },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      return JSON.parse(new TextDecoder().decode(stdout));
    };
    // A listener of this test's: a row that names another port, whatever else the host has.
    using other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const viaGrep = await run("grep,cat");
    assert.equal(viaGrep.peer, "own");
    assert.equal(viaGrep.listener, "own");
    // The header of tcp and tcp6, the listener, the server's and the client's ends.
    assert.ok(viaGrep.rows >= 4, `rows read: ${viaGrep.rows}`);
    assert.equal(viaGrep.otherRows, 0, "grep passed on only the rows naming the port");
    const viaCat = await run("cat");
    assert.equal(viaCat.peer, "own");
    assert.equal(viaCat.listener, "own");
    assert.ok(viaCat.otherRows > 0, `cat passed on every row, port ${other.addr.port}'s too`);
    // A grep that runs but fails (here: exits 2 at once) leaves the table to cat, never to "unknown".
    await using bin = await emptyDir();
    Deno.writeTextFileSync(`${bin.path}/grep`, "#!/bin/sh\nexit 2\n", { mode: 0o700 });
    const brokenGrep = await run(
      "grep,cat",
      `${bin.path}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    );
    assert.equal(brokenGrep.peer, "own");
    assert.equal(brokenGrep.listener, "own");
    assert.ok(brokenGrep.otherRows > 0, "cat read the table");
    const neither = await run("ps");
    assert.deepEqual([neither.peer, neither.listener, neither.rows], ["unknown", "unknown", 0]);
  },
);
