/**
 * Reading one item of the Secret Service (the freedesktop.org keyring API
 * that GNOME Keyring and KeePassXC serve) straight over D-Bus: two round
 * trips, where starting `secret-tool` costs a process. Only the common case
 * is handled here (an unlocked item, or none); anything else is for
 * `secret-tool`, which can prompt to unlock (see ./keyring.ts).
 * @module
 */
import { DBusConnection, DBusError, type DBusValue } from "../platform/dbus.ts";

export { unixSocketPath } from "../platform/dbus.ts";

const SERVICE = {
  destination: "org.freedesktop.secrets",
  path: "/org/freedesktop/secrets",
  interface: "org.freedesktop.Secret.Service",
};

/** What a lookup found. */
export type SecretLookup =
  | { state: "found"; secret: string }
  | { state: "missing" }
  | { state: "locked" };

/**
 * Looks up the secret of the item whose attributes include `attributes`
 * (as `secret-tool lookup` does). `locked` when only locked items match.
 * Throws a `DBusError` when the bus or the service fails; aborting `signal`
 * closes the connection.
 *
 * The secret comes over a session opened with the `plain` algorithm: the
 * session bus is only reachable by this user (and root), who may read every
 * unlocked item anyway, so transport encryption (`dh-ietf1024-…`, what
 * libsecret negotiates) protects nothing here that the bus does not; it
 * would cost two 1024-bit modular powers and WebCrypto's first use, about
 * half of what the whole read takes (docs/performance.md).
 *
 * @example
 * ```ts ignore
 * import { lookupSecret } from "./secret_service.ts";
 * const found = await lookupSecret("/run/user/1000/bus", { service: "loopauth" }, { uid: 1000 });
 * if (found.state === "found") console.log(found.secret.length);
 * ```
 */
export async function lookupSecret(
  socket: string,
  attributes: Record<string, string>,
  options: { uid: number; signal?: AbortSignal },
): Promise<SecretLookup> {
  const { signal } = options;
  signal?.throwIfAborted();
  const bus = await DBusConnection.open(socket, options);
  // Aborting closes the connection: every call still waiting rejects.
  const abort = () => bus.close();
  signal?.addEventListener("abort", abort, { once: true });
  try {
    signal?.throwIfAborted();
    // Both go out at once (with the authentication): the service answers in order.
    const [session, search] = await Promise.all([
      bus.call({
        ...SERVICE,
        member: "OpenSession",
        signature: "sv",
        body: ["plain", { signature: "s", value: "" }],
      }),
      bus.call({
        ...SERVICE,
        member: "SearchItems",
        signature: "a{ss}",
        body: [Object.entries(attributes)],
      }),
    ]);
    const [unlocked, locked] = search as [string[], string[]];
    if (unlocked.length === 0) return { state: locked.length ? "locked" : "missing" };
    const sessionPath = session[1] as string;
    const [secrets] = await bus.call({
      ...SERVICE,
      member: "GetSecrets",
      signature: "aoo",
      body: [[unlocked[0]], sessionPath],
    });
    // a{o(oayays)}: item → (session, parameters, value, content type).
    const entry = (secrets as [string, DBusValue[]][]).find(([item]) => item === unlocked[0]);
    if (!entry) throw new DBusError("loopauth.NoSecret", "the service gave no secret for the item");
    const value = entry[1][2] as Uint8Array;
    return { state: "found", secret: new TextDecoder("utf-8", { fatal: true }).decode(value) };
  } finally {
    signal?.removeEventListener("abort", abort);
    bus.close();
  }
}
