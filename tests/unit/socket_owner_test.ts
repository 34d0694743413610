import assert from "node:assert/strict";
import { listenerOwners, loopbackListener } from "../../lib/platform/socket_owner.ts";

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const row = (local: string, remote: string, st: string, uid: number, inode: number) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000 ${uid} 0 ${inode}\n`;

Deno.test("a resumed login's waiter is judged by its listening socket, not by a connection it has not accepted yet", async () => {
  // The waiter (uid 1000) listens; the connection just made is in its accept queue: inode 0.
  const table = HEADER + row("0100007F:1F90", "00000000:0000", "0A", 1000, 4242) +
    row("0100007F:1F90", "0100007F:A000", "01", 0, 0) +
    row("0100007F:A000", "0100007F:1F90", "01", 1000, 4243);
  assert.equal(
    await loopbackListener(0x1f90, { table: () => Promise.resolve(table), uid: 1000 }),
    "own",
  );
});

Deno.test("a listener of another user on a wildcard address counts against the port (it takes 127.0.0.1's connections)", async () => {
  const table = HEADER + row("00000000:1F90", "00000000:0000", "0A", 65534, 7) +
    row(
      "00000000000000000000000000000000:1F91",
      "00000000000000000000000000000000:0000",
      "0A",
      65534,
      8,
    );
  assert.deepEqual(listenerOwners(table, 0x1f90), [65534]);
  assert.deepEqual(listenerOwners(table, 0x1f91), [65534]);
  const table_ = () => Promise.resolve(table);
  assert.equal(await loopbackListener(0x1f90, { table: table_, uid: 1000 }), "foreign");
  assert.equal(
    await loopbackListener(0x1f92, { table: table_, uid: 1000 }),
    "foreign",
    "nobody listens",
  );
  assert.equal(
    await loopbackListener(0x1f90, { table: () => Promise.resolve(undefined), uid: 1000 }),
    "unknown",
  );
});
