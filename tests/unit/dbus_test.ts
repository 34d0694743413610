/** Which D-Bus addresses the keyring's direct path may use (lib/platform/dbus.ts). */
import assert from "node:assert/strict";
import { unixSocketPath } from "../../lib/platform/dbus.ts";

Deno.test("unixSocketPath: the first unix:path= of an address list, unescaped; nothing else", () => {
  assert.equal(unixSocketPath("unix:path=/run/user/1000/bus"), "/run/user/1000/bus");
  assert.equal(unixSocketPath("unix:path=/tmp/dbus-x,guid=0f1e"), "/tmp/dbus-x");
  assert.equal(unixSocketPath("unix:path=/tmp/a%20b,guid=1"), "/tmp/a b");
  assert.equal(
    unixSocketPath("unix:abstract=/tmp/dbus-y,guid=1;unix:path=/run/user/1000/bus"),
    "/run/user/1000/bus",
  );
  for (
    const address of ["unix:abstract=/tmp/dbus-y", "tcp:host=localhost,port=1", "", "unix:path="]
  ) {
    assert.equal(unixSocketPath(address), undefined, address);
  }
  assert.equal(unixSocketPath("unix:path=/tmp/%zz"), undefined, "a bad escape");
});
