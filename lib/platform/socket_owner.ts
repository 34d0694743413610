/**
 * Who owns the other end of a loopback TCP connection: Linux lists every
 * TCP socket of the network namespace with its owner's uid in
 * `/proc/net/tcp` (and `/proc/net/tcp6`).
 * @module
 */
import { ownUid } from "./uid.ts";

/** `127.0.0.1` as `/proc/net/tcp` writes it (a little-endian word, as on every host Deno runs on). */
const LOOPBACK_V4 = "0100007F";
/** `::ffff:127.0.0.1` as `/proc/net/tcp6` writes it (an IPv4 client on a dual-stack socket). */
const LOOPBACK_MAPPED = "0000000000000000FFFF00000100007F";
/** `::1` as `/proc/net/tcp6` writes it (a callback server on `[::1]`, see `--redirect-uri`). */
const LOOPBACK_V6 = "00000000000000000000000001000000";
/** A loopback client's or server's address, in each form the tables write. */
const LOOPBACK = [LOOPBACK_V4, LOOPBACK_MAPPED, LOOPBACK_V6];
/** TCP_ESTABLISHED in the `st` column. */
const ESTABLISHED = "01";
/** TCP_LISTEN in the `st` column. */
const LISTEN = "0A";

/**
 * The uid that owns the live client socket `127.0.0.1:peerPort` connected to
 * `127.0.0.1:serverPort`, from the text of `/proc/net/tcp` and
 * `/proc/net/tcp6`; `undefined` when the table has no such socket. Only an
 * established connection with a socket of its own counts: Linux lists a
 * closed or TIME_WAIT socket (one the client already let go of, or one left
 * by an earlier connection from that port) with uid 0 and inode 0, which
 * another user could otherwise borrow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketOwner } from "./socket_owner.ts";
 * const table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
 *   "   0: 0100007F:A000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000 0 4242\n" +
 *   "   1: 0100007F:A001 0100007F:1F90 06 00000000:00000000 03:00000000 00000000     0 0 0\n";
 * assert.equal(socketOwner(table, 0x1f90, 0xa000), 1000);
 * assert.equal(socketOwner(table, 0x1f90, 0xa001), undefined, "TIME_WAIT: no owner");
 * assert.equal(socketOwner(table, 0x1f90, 0xa002), undefined);
 * ```
 */
export function socketOwner(
  table: string,
  serverPort: number,
  peerPort: number,
): number | undefined {
  const local = LOOPBACK.map((ip) => `${ip}:${hexPort(peerPort)}`);
  const remote = LOOPBACK.map((ip) => `${ip}:${hexPort(serverPort)}`);
  for (const fields of rowsNaming(table, remote)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    if (!local.includes(fields[1].toUpperCase()) || !remote.includes(fields[2].toUpperCase())) {
      continue;
    }
    if (fields[3] !== ESTABLISHED || fields[9] === "0") continue;
    const uid = Number(fields[7]);
    if (Number.isInteger(uid)) return uid;
  }
  return undefined;
}

/** A port as the socket tables write it: four upper-case hex digits. */
const hexPort = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");

/**
 * The rows of a socket table, split into fields, whose text names one of
 * `addresses` in any case: only those rows are split, in the table's order.
 * Every row whose address field is one of them is among these (the callers
 * then check the fields as before). A busy host lists tens of thousands of
 * sockets (TIME_WAIT ones included), and splitting every row cost a login
 * more than the rest of its callback.
 */
function* rowsNaming(table: string, addresses: string[]): Generator<string[]> {
  // One copy, to find an address whatever its case (Linux writes upper case).
  const text = table.toUpperCase();
  const starts = new Set<number>();
  for (const address of addresses) {
    for (let at = text.indexOf(address); at !== -1; at = text.indexOf(address, at + 1)) {
      starts.add(text.lastIndexOf("\n", at) + 1);
    }
  }
  for (const start of [...starts].sort((a, b) => a - b)) {
    const end = table.indexOf("\n", start);
    const fields = table.slice(start, end === -1 ? undefined : end).trim().split(/\s+/);
    if (fields.length >= 10) yield fields;
  }
}

/**
 * Reads Linux's TCP socket tables: the header and the rows that name one of
 * `naming` (an address as the tables write it, e.g. `0100007F:1F90`), and
 * maybe more. Deno grants `/proc` only with `--allow-all`, so `grep` reads
 * them (`cat`, every row, where there is no `grep`), started without a shell
 * and with no secret in its arguments; `undefined` where that is impossible
 * (not Linux, neither program, no permission to run them). A busy host lists
 * tens of thousands of sockets: passing only the rows asked for through the
 * pipe saved a login more than its callback's other work.
 *
 * @example
 * ```ts
 * import { readSocketTable } from "./socket_owner.ts";
 * const table = await readSocketTable(["0100007F:1F90"]);
 * console.log(table === undefined ? "unknown" : "readable");
 * ```
 */
export async function readSocketTable(naming: string[]): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  // tcp6 may be missing (IPv6 disabled): the program then fails but prints tcp's rows.
  const files = ["/proc/net/tcp", "/proc/net/tcp6"];
  // -i and no delimiter: grep keeps every row the parsers would look at, and some more.
  const patterns = ["local_address", ...naming].flatMap((a) => ["-e", a]);
  const programs: [string, string[]][] = [
    ["grep", ["-h", "-i", "-F", ...patterns, ...files]],
    ["cat", files],
  ];
  // A grep that fails in any way (missing, not allowed, no header read) leaves it to cat.
  for (const [program, args] of programs) {
    try {
      if (Deno.permissions.querySync({ name: "run", command: program }).state !== "granted") {
        continue;
      }
      const { stdout } = await new Deno.Command(program, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
        clearEnv: true,
      }).output();
      const text = new TextDecoder().decode(stdout);
      if (text.includes("local_address")) return text;
    } catch {
      // The next program, if any.
    }
  }
  return undefined;
}

/**
 * The uid of the socket listening on `127.0.0.1:port`, from the text of
 * `/proc/net/tcp`; `undefined` when none listens there. At most one can:
 * Linux refuses a second listener on that address (or a wildcard one beside
 * it) unless both are the same user's, and gives it every connection to
 * `127.0.0.1:port`. Listeners on `::1` or a v6-only `::` take none of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenerOwner } from "./socket_owner.ts";
 * const table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
 *   "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 4242\n";
 * assert.equal(listenerOwner(table, 0x1f90), 1000);
 * assert.equal(listenerOwner(table, 0x1f91), undefined);
 * ```
 */
export function listenerOwner(table: string, port: number): number | undefined {
  const local = `${LOOPBACK_V4}:${hexPort(port)}`;
  for (const fields of rowsNaming(table, [local])) {
    if (fields[3] !== LISTEN || fields[1].toUpperCase() !== local) continue;
    const uid = Number(fields[7]);
    if (Number.isInteger(uid)) return uid;
  }
  return undefined;
}

/**
 * Whether the server listening on `127.0.0.1:port` runs as this process's
 * user (or root). Judged by its listening socket, which always has its owner:
 * a connection the server has not accepted yet is listed without one.
 * Nothing listening on exactly `127.0.0.1` (another user's wildcard
 * listener took the port) is foreign.
 *
 * @example
 * ```ts
 * import { loopbackListener } from "./socket_owner.ts";
 * const verdict = await loopbackListener(8080);
 * if (verdict === "foreign") console.error("another user's server");
 * ```
 */
export async function loopbackListener(
  port: number,
  options: { table?: typeof readSocketTable; uid?: number } = {},
): Promise<PeerVerdict> {
  const uid = "uid" in options ? options.uid : ownUid();
  if (uid === undefined) return "unknown";
  const naming = [`${LOOPBACK_V4}:${hexPort(port)}`];
  const table = await (options.table ?? readSocketTable)(naming);
  if (table === undefined) return "unknown";
  const owner = listenerOwner(table, port);
  return owner !== undefined && (owner === uid || owner === 0) ? "own" : "foreign";
}

/** What {@linkcode loopbackPeer} found out about a connection. */
export type PeerVerdict =
  /** The client is this user (or root, who can read this process anyway). */
  | "own"
  /** The client belongs to another user, or is not in the table. */
  | "foreign"
  /** This system cannot tell (not Linux, no `cat`, no uid). */
  | "unknown";

/**
 * Whether the client at `127.0.0.1:peerPort`, connected to this process's
 * server on `serverPort`, runs as this process's user.
 *
 * @example
 * ```ts
 * import { loopbackPeer } from "./socket_owner.ts";
 * const verdict = await loopbackPeer(8080, 40000);
 * if (verdict === "foreign") console.error("another user's connection");
 * ```
 */
export async function loopbackPeer(
  serverPort: number,
  peerPort: number,
  options: {
    table?: typeof readSocketTable;
    uid?: number;
    /** The client's address (default `127.0.0.1`): any but `127.0.0.1` and `::1` is foreign. */
    peerAddress?: string;
  } = {},
): Promise<PeerVerdict> {
  // A browser on this machine connects from 127.0.0.1 (or ::1 to a server there); another
  // loopback address (127.0.0.2, …) is a way to reuse a port number the table lists for someone.
  if (!["127.0.0.1", "::1"].includes(options.peerAddress ?? "127.0.0.1")) return "foreign";
  const uid = "uid" in options ? options.uid : ownUid();
  if (uid === undefined) return "unknown";
  const naming = LOOPBACK.map((ip) => `${ip}:${hexPort(serverPort)}`);
  const table = await (options.table ?? readSocketTable)(naming);
  if (table === undefined) return "unknown";
  const owner = socketOwner(table, serverPort, peerPort);
  return owner !== undefined && (owner === uid || owner === 0) ? "own" : "foreign";
}
