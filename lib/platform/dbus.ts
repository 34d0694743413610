/**
 * A small D-Bus client: one connection over a Unix socket, SASL `EXTERNAL`
 * authentication, method calls and their replies, and the wire format of
 * the types `y b i u s o g a ( { v` (all the Secret Service uses).
 *
 * Hand-written because the D-Bus packages on npm (dbus-next, dbus-native)
 * are built on `node:net`, `node:events` and `Buffer`: loading one starts
 * Deno's Node compatibility layer, which `token` and `git-credential` must
 * not (tests/system/startup_test.ts), and costs more than the whole lookup.
 * @module
 */
/** A value of a D-Bus variant: its signature and the value. */
export interface Variant {
  /** The D-Bus signature of `value`, e.g. `s` or `ay`. */
  signature: string;
  /** The value: a string, number, boolean, `Uint8Array` (for `ay`) or array. */
  value: DBusValue;
}

/**
 * A D-Bus value in JavaScript: `s o g` strings, `y i u` numbers, `b`
 * booleans, `ay` a `Uint8Array`, other arrays and structs arrays, a dict
 * entry a `[key, value]` pair, a variant a {@linkcode Variant}.
 */
export type DBusValue = string | number | boolean | Uint8Array | DBusValue[] | Variant;

/** An error reply (its D-Bus error name), or a broken connection. */
export class DBusError extends Error {
  /** The D-Bus error name, e.g. `org.freedesktop.DBus.Error.ServiceUnknown`. */
  readonly errorName: string;
  /**
   * @param errorName The D-Bus error name.
   * @param message What it said.
   */
  constructor(errorName: string, message: string) {
    super(`${errorName}: ${message}`);
    this.name = "DBusError";
    this.errorName = errorName;
  }
}

/** One method call. */
export interface MethodCall {
  /** The bus name of the service, e.g. `org.freedesktop.secrets`. */
  destination: string;
  /** The object path. */
  path: string;
  /** The interface of the method. */
  interface: string;
  /** The method's name. */
  member: string;
  /** The signature of `body` (`""` for none). */
  signature?: string;
  /** The arguments. */
  body?: DBusValue[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The end of the single complete type that starts at `i` of `signature`. */
function typeEnd(signature: string, i: number): number {
  const c = signature[i];
  if (c === "a") return typeEnd(signature, i + 1);
  if (c === "(" || c === "{") {
    const close = c === "(" ? ")" : "}";
    let j = i + 1;
    while (signature[j] !== close) {
      if (j >= signature.length) throw new DBusError("loopauth.BadSignature", signature);
      j = typeEnd(signature, j);
    }
    return j + 1;
  }
  if (!"ybiusogv".includes(c ?? "")) {
    throw new DBusError("loopauth.BadSignature", `unsupported type in ${signature}`);
  }
  return i + 1;
}

/** The complete types of a signature, e.g. `sa{sv}` → `["s", "a{sv}"]`. */
function splitSignature(signature: string): string[] {
  const types: string[] = [];
  for (let i = 0; i < signature.length;) {
    const end = typeEnd(signature, i);
    types.push(signature.slice(i, end));
    i = end;
  }
  return types;
}

function alignment(type: string): number {
  const c = type[0];
  if (c === "y" || c === "g" || c === "v") return 1;
  if (c === "(" || c === "{") return 8;
  return 4;
}

/** Marshals values little-endian, offsets counted from the message's start. */
class Writer {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  length = 0;

  #room(n: number) {
    if (this.length + n <= this.#bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.#bytes.length * 2, this.length + n));
    bigger.set(this.#bytes);
    this.#bytes = bigger;
    this.#view = new DataView(bigger.buffer);
  }
  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.#room(pad);
    this.#bytes.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  byte(value: number): void {
    this.#room(1);
    this.#bytes[this.length++] = value;
  }
  uint32(value: number): void {
    this.align(4);
    this.#room(4);
    this.#view.setUint32(this.length, value, true);
    this.length += 4;
  }
  raw(data: Uint8Array): void {
    this.#room(data.length);
    this.#bytes.set(data, this.length);
    this.length += data.length;
  }
  patchUint32(at: number, value: number): void {
    this.#view.setUint32(at, value, true);
  }
  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.length);
  }

  write(type: string, value: DBusValue): void {
    const c = type[0];
    switch (c) {
      case "y":
        return this.byte(value as number);
      case "b":
        return this.uint32(value ? 1 : 0);
      case "i":
      case "u":
        this.uint32(0);
        this.#view[c === "i" ? "setInt32" : "setUint32"](this.length - 4, value as number, true);
        return;
      case "s":
      case "o": {
        const data = encoder.encode(value as string);
        this.uint32(data.length);
        this.raw(data);
        return this.byte(0);
      }
      case "g": {
        const data = encoder.encode(value as string);
        this.byte(data.length);
        this.raw(data);
        return this.byte(0);
      }
      case "v": {
        const variant = value as Variant;
        this.write("g", variant.signature);
        return this.write(variant.signature, variant.value);
      }
      case "a": {
        const element = type.slice(1);
        this.uint32(0);
        const lengthAt = this.length - 4;
        this.align(alignment(element));
        const start = this.length;
        if (element === "y") this.raw(value as Uint8Array);
        else for (const item of value as DBusValue[]) this.write(element, item);
        return this.patchUint32(lengthAt, this.length - start);
      }
      case "(":
      case "{": {
        this.align(8);
        const fields = splitSignature(type.slice(1, -1));
        fields.forEach((field, i) => this.write(field, (value as DBusValue[])[i]));
        return;
      }
    }
    throw new DBusError("loopauth.BadSignature", `cannot write ${type}`);
  }
}

/** Unmarshals one message's values (either byte order). */
class Reader {
  offset: number;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #little: boolean;

  constructor(bytes: Uint8Array, little: boolean, offset = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#little = little;
    this.offset = offset;
  }
  align(n: number): void {
    this.offset += (n - (this.offset % n)) % n;
  }
  #need(n: number) {
    if (this.offset + n > this.#bytes.length) {
      throw new DBusError("loopauth.BadMessage", "a message ends early");
    }
  }
  uint32(): number {
    this.align(4);
    this.#need(4);
    const value = this.#view.getUint32(this.offset, this.#little);
    this.offset += 4;
    return value;
  }
  #text(length: number): string {
    this.#need(length + 1);
    const text = decoder.decode(this.#bytes.subarray(this.offset, this.offset + length));
    this.offset += length + 1;
    return text;
  }

  read(type: string): DBusValue {
    const c = type[0];
    switch (c) {
      case "y":
        this.#need(1);
        return this.#bytes[this.offset++];
      case "b":
        return this.uint32() !== 0;
      case "u":
        return this.uint32();
      case "i": {
        const value = this.uint32();
        return value | 0;
      }
      case "s":
      case "o":
        return this.#text(this.uint32());
      case "g":
        this.#need(1);
        return this.#text(this.#bytes[this.offset++]);
      case "v": {
        const signature = this.read("g") as string;
        splitSignature(signature); // only types this reader knows
        return { signature, value: this.read(signature) };
      }
      case "a": {
        const element = type.slice(1);
        const length = this.uint32();
        this.align(alignment(element));
        const end = this.offset + length;
        this.#need(length);
        if (element === "y") {
          const data = this.#bytes.slice(this.offset, end);
          this.offset = end;
          return data;
        }
        const items: DBusValue[] = [];
        while (this.offset < end) items.push(this.read(element));
        return items;
      }
      case "(":
      case "{": {
        this.align(8);
        return splitSignature(type.slice(1, -1)).map((field) => this.read(field));
      }
    }
    throw new DBusError("loopauth.BadSignature", `cannot read ${type}`);
  }
}

const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6 };
const SIGNATURE_FIELD = 8;
const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;
/** The longest message the spec allows (128 MiB): anything longer is a broken peer. */
const MAX_MESSAGE = 128 * 1024 * 1024;

function methodCall(serial: number, call: MethodCall): Uint8Array {
  const signature = call.signature ?? "";
  const body = new Writer();
  for (const [i, type] of splitSignature(signature).entries()) body.write(type, call.body![i]);
  const fields: DBusValue[] = [
    [FIELD.path, { signature: "o", value: call.path }],
    [FIELD.interface, { signature: "s", value: call.interface }],
    [FIELD.member, { signature: "s", value: call.member }],
    [FIELD.destination, { signature: "s", value: call.destination }],
  ];
  if (signature) fields.push([SIGNATURE_FIELD, { signature: "g", value: signature }]);
  const message = new Writer();
  // Little-endian, a method call, no flags, protocol version 1.
  for (const byte of ["l".charCodeAt(0), METHOD_CALL, 0, 1]) message.byte(byte);
  message.uint32(body.length);
  message.uint32(serial);
  message.write("a(yv)", fields);
  message.align(8);
  message.raw(body.bytes());
  return message.bytes();
}

interface Reply {
  type: number;
  replySerial?: number;
  errorName?: string;
  body: DBusValue[];
}

/** The length of the first whole message in `data`, or 0 when more bytes are needed. */
function messageLength(data: Uint8Array): number {
  if (data.length < 16) return 0;
  const little = data[0] === "l".charCodeAt(0);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bodyLength = view.getUint32(4, little);
  const fieldsLength = view.getUint32(12, little);
  const total = 16 + fieldsLength + ((8 - (fieldsLength % 8)) % 8) + bodyLength;
  if (total > MAX_MESSAGE) throw new DBusError("loopauth.BadMessage", "a message is too long");
  return data.length >= total ? total : 0;
}

function parseMessage(data: Uint8Array): Reply {
  const little = data[0] === "l".charCodeAt(0);
  if (!little && data[0] !== "B".charCodeAt(0)) {
    throw new DBusError("loopauth.BadMessage", "unknown byte order");
  }
  const reader = new Reader(data, little, 12);
  const fields = reader.read("a(yv)") as [number, Variant][];
  const field = (code: number) => fields.find(([c]) => c === code)?.[1].value;
  reader.align(8);
  const signature = (field(SIGNATURE_FIELD) as string | undefined) ?? "";
  const type = data[1];
  // Signals and other traffic carry types this client need not know: only replies are read.
  const body = type === METHOD_RETURN || type === ERROR
    ? splitSignature(signature).map((t) => reader.read(t))
    : [];
  return {
    type,
    replySerial: field(FIELD.replySerial) as number | undefined,
    errorName: field(FIELD.errorName) as string | undefined,
    body,
  };
}

/**
 * One authenticated connection to a bus. Calls may be sent at once (they
 * are pipelined: the authentication and `Hello` go out with the first
 * write, and the bus answers them in order).
 *
 * @example
 * ```ts ignore
 * import { DBusConnection } from "./dbus.ts";
 * const bus = await DBusConnection.open("/run/user/1000/bus", { uid: Deno.uid()! });
 * try {
 *   const [names] = await bus.call({
 *     destination: "org.freedesktop.DBus",
 *     path: "/org/freedesktop/DBus",
 *     interface: "org.freedesktop.DBus",
 *     member: "ListNames",
 *   });
 *   console.log(names);
 * } finally {
 *   bus.close();
 * }
 * ```
 */
export class DBusConnection {
  readonly #conn: Deno.UnixConn;
  #serial = 0;
  #writing: Promise<unknown> = Promise.resolve();
  readonly #pending = new Map<
    number,
    { resolve: (body: DBusValue[]) => void; reject: (error: Error) => void }
  >();
  #failure?: Error;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /**
   * Connects to the bus socket at `path` and authenticates as `uid`
   * (SASL `EXTERNAL`; the bus checks it against the socket's credentials).
   */
  static async open(path: string, options: { uid: number }): Promise<DBusConnection> {
    const conn = await Deno.connect({ transport: "unix", path });
    const bus = new DBusConnection(conn);
    const id = Array.from(encoder.encode(String(options.uid)), (b) => b.toString(16)).join("");
    // The NUL byte the protocol starts with, the whole SASL exchange, then messages.
    bus.#send(encoder.encode(`\0AUTH EXTERNAL ${id}\r\nBEGIN\r\n`));
    bus.#read();
    bus.call({
      destination: "org.freedesktop.DBus",
      path: "/org/freedesktop/DBus",
      interface: "org.freedesktop.DBus",
      member: "Hello",
    }).catch(() => {}); // a failure fails every call after it too
    return bus;
  }

  /** Sends a method call; resolves with the reply's values, rejects with a {@linkcode DBusError}. */
  call(call: MethodCall): Promise<DBusValue[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const serial = ++this.#serial;
    const reply = new Promise<DBusValue[]>((resolve, reject) => {
      this.#pending.set(serial, { resolve, reject });
    });
    this.#send(methodCall(serial, call));
    return reply;
  }

  /** Closes the connection; pending calls reject. */
  close(): void {
    this.#fail(new DBusError("loopauth.Closed", "the connection was closed"));
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  #send(data: Uint8Array) {
    this.#writing = this.#writing.then(async () => {
      for (let done = 0; done < data.length;) {
        done += await this.#conn.write(data.subarray(done));
      }
    }).catch((error) => this.#fail(error));
  }

  #fail(error: Error) {
    this.#failure ??= error instanceof DBusError
      ? error
      : new DBusError("loopauth.Disconnected", String(error?.message ?? error));
    for (const { reject } of this.#pending.values()) reject(this.#failure);
    this.#pending.clear();
  }

  async #read() {
    let data = new Uint8Array(0);
    const chunk = new Uint8Array(16 * 1024);
    let authenticated = false;
    try {
      while (true) {
        const n = await this.#conn.read(chunk);
        if (n === null) {
          throw new DBusError("loopauth.Disconnected", "the bus closed the connection");
        }
        const joined = new Uint8Array(data.length + n);
        joined.set(data);
        joined.set(chunk.subarray(0, n), data.length);
        data = joined;
        if (!authenticated) {
          const end = data.indexOf(0x0a);
          if (end < 0) {
            if (data.length > 1024) throw new DBusError("loopauth.Auth", "no answer line");
            continue;
          }
          const line = new TextDecoder().decode(data.subarray(0, end)).trim();
          if (!line.startsWith("OK ")) throw new DBusError("loopauth.Auth", line.slice(0, 100));
          authenticated = true;
          data = data.slice(end + 1);
        }
        for (let length; (length = messageLength(data)) > 0;) {
          this.#dispatch(parseMessage(data.subarray(0, length)));
          data = data.slice(length);
        }
      }
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  #dispatch(message: Reply) {
    if (message.type !== METHOD_RETURN && message.type !== ERROR) return;
    const pending = message.replySerial === undefined
      ? undefined
      : this.#pending.get(message.replySerial);
    if (!pending) return;
    this.#pending.delete(message.replySerial!);
    if (message.type === METHOD_RETURN) pending.resolve(message.body);
    else {
      const text = typeof message.body[0] === "string" ? message.body[0] : "";
      pending.reject(new DBusError(message.errorName ?? "unknown", text));
    }
  }
}

/**
 * The socket path of a D-Bus address such as `unix:path=/run/user/1000/bus`
 * (the first `unix:path=` of a `;`-separated list); `undefined` for any
 * other transport (abstract sockets, TCP), which this client does not use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unixSocketPath } from "./dbus.ts";
 * assert.equal(unixSocketPath("unix:path=/run/user/1000/bus,guid=1a"), "/run/user/1000/bus");
 * assert.equal(unixSocketPath("unix:abstract=/tmp/dbus-x"), undefined);
 * ```
 */
export function unixSocketPath(address: string): string | undefined {
  for (const entry of address.split(";")) {
    const [transport, rest = ""] = entry.split(/:(.*)/s);
    if (transport !== "unix") continue;
    for (const pair of rest.split(",")) {
      const [key, value] = pair.split(/=(.*)/s);
      if (key === "path" && value) {
        // Values may be %-escaped.
        try {
          return decodeURIComponent(value);
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
