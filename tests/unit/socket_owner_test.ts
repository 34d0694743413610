import assert from "node:assert/strict";
import { listenerOwner, loopbackListener } from "../../lib/platform/socket_owner.ts";

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
