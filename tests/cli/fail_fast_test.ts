/**
 * A default login (no --web, no --device: here every route runs) ends at
 * once, with its own exit code, on an error no other route can recover from:
 * the host does not answer, the client id is unknown, `--port` is taken. The
 * browser route would otherwise wait for its 5-minute default timeout; that
 * the CLI exits at all within `output()`'s bounded wait is the proof.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { startDevProvider } from "../../lib/dev/provider.ts";
import { Cli, providerLoginArgs, secretEnv, tempConfig, withProvider } from "../helpers.ts";

/** The one line of a failed run (nothing but the flow lines before it). */
function lastLine(stderr: string): string {
  return stderr.trimEnd().split("\n").at(-1)!;
}

Deno.test("default login: an unknown client id ends every route at once (exit 5)", async () => {
  await withProvider(async (provider, configHome) => {
    const args = providerLoginArgs(provider).map((a) => a === provider.clientId ? "Iv1.nope" : a);
    const cli = new Cli(args, { configHome, env: secretEnv(provider) });
    const { code, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.oauth, stderr);
    assert.equal(
      lastLine(stderr),
      `Error: ${provider.origin} does not know the client id Iv1.nope: check --client-id`,
    );
    assert.doesNotMatch(stderr, /Waiting for the browser/);
    // Nothing but the device code request reached the host.
    assert.deepEqual(provider.requests.map((r) => r.path), ["/login/device/code"]);
  }, { autoApprove: false });
});

Deno.test("default login: a host that does not answer ends every route at once (exit 7)", async () => {
  // A port that was free a moment ago: nothing listens there.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await using config = await tempConfig();
  const cli = new Cli(
    ["login", "--hostname", `http://127.0.0.1:${port}`, "--client-id", "Iv1.abc"],
    { configHome: config.home },
  );
  const { code, stderr } = await cli.output();
  assert.equal(code, EXIT_CODES.network, stderr);
  assert.match(
    lastLine(stderr),
    new RegExp(
      `^Error: Cannot reach the device code endpoint of http://127\\.0\\.0\\.1:${port}: .+$`,
    ),
  );
  assert.doesNotMatch(stderr, /Waiting for the browser/);
});

Deno.test("default login: --hostname without a scheme for an http:// server ends at once (exit 7)", async () => {
  // `127.0.0.1:PORT` means https://: the TLS handshake with a plain HTTP server fails.
  const provider = await startDevProvider({ autoApprove: false });
  try {
    await using config = await tempConfig();
    const host = new URL(provider.origin).host;
    const cli = new Cli(
      ["login", "--hostname", host, "--client-id", provider.clientId],
      { configHome: config.home },
    );
    const { code, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.network, stderr);
    assert.equal(
      lastLine(stderr),
      `Error: Cannot reach the device code endpoint of ${host}: it does not speak TLS (https://): for a server without TLS give --hostname http://${host}`,
    );
    assert.doesNotMatch(stderr, /Waiting for the browser/);
    assert.equal(provider.requests.length, 0, "no request reached the HTTP server as HTTP");
    // The hint, followed: the login gets as far as the device code.
    const again = new Cli(
      ["login", "--hostname", `http://${host}`, "--client-id", provider.clientId],
      { configHome: config.home },
    );
    await again.waitForLine(/one-time code: /);
    again.child.kill("SIGINT");
    assert.equal((await again.output()).code, EXIT_CODES.cancelled);
  } finally {
    await provider.close();
  }
});

Deno.test("default login: a taken --port is exit 10 at once, not a wait for the device code", async () => {
  await withProvider(async (provider, configHome) => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const cli = new Cli(providerLoginArgs(provider, "--port", String(port)), {
      configHome,
      env: secretEnv(provider),
    });
    const { code, stderr } = await cli.output();
    assert.equal(code, EXIT_CODES.port_in_use, stderr);
    assert.match(lastLine(stderr), new RegExp(`^Error: .*\\b${port}\\b`));
    // The device route stopped too: no poll of the token endpoint.
    assert.equal(
      provider.requests.filter((r) => r.path === "/login/oauth/access_token").length,
      0,
    );
  }, { autoApprove: false });
});

/** Whether this process may listen on 127.0.0.1:80 now (root, and nobody else there). */
function port80Free(): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port: 80 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "--port 80: the redirect URI has no port and the browser's Host: 127.0.0.1 completes the login",
  ignore: !port80Free(),
  fn: async () => {
    await withProvider(async (provider, configHome) => {
      const cli = new Cli(providerLoginArgs(provider, "--port", "80"), {
        configHome,
        env: secretEnv(provider),
      });
      const url = await cli.authorizationUrl();
      // The literal redirect a provider may demand: http://127.0.0.1/callback.
      assert.equal(new URL(url).searchParams.get("redirect_uri"), "http://127.0.0.1/callback");
      const redirect = await fetch(url, { redirect: "manual" });
      await redirect.body?.cancel();
      const location = redirect.headers.get("location")!;
      // fetch sends the Host a browser sends for port 80: without the port.
      const callback = await fetch(location);
      assert.equal(callback.status, 200, await callback.text());
      const { code, stderr } = await cli.output();
      assert.equal(code, 0, stderr);
    }, { autoApprove: true });
  },
});
