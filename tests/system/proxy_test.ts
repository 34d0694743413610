/**
 * Proxies and corporate CAs, through the real CLI: an HTTPS server signed
 * by a test CA (tests/fixtures/tls) that Deno trusts only with DENO_CERT,
 * and a tiny CONNECT proxy on 127.0.0.1 that tunnels, refuses, or wants a
 * password. Each failure is one line naming the variable to set, exit 7.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { proxyFor } from "../../lib/core/proxy_env.ts";
import {
  childEnv,
  type CliOutput,
  MAIN,
  runCli,
  runFlags,
  runWithInput,
  tempConfig,
} from "../helpers.ts";

const TLS = fileURLToPath(new URL("../fixtures/tls/", import.meta.url));
const CA = `${TLS}ca.pem`;
const TOKEN = "ghp_testToken0123456789";

/** A GitHub Enterprise Server stand-in over HTTPS: `GET /api/v3/user` for {@linkcode TOKEN}. */
async function startTlsHost() {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(`${TLS}server.pem`),
    key: await Deno.readTextFile(`${TLS}server.key`),
    onListen() {},
  }, (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/api/v3/user") {
      if (request.headers.get("authorization") !== `token ${TOKEN}`) {
        return Response.json({ message: "Bad credentials" }, { status: 401 });
      }
      return Response.json({ login: "octocat", id: 1 }, { headers: { "X-OAuth-Scopes": "repo" } });
    }
    if (url.pathname === "/api/v3/") return Response.json({ current_user_url: "/api/v3/user" });
    return Response.json({ message: "Not Found" }, { status: 404 });
  });
  return Object.assign(server, { host: `127.0.0.1:${server.addr.port}` });
}

/** What the proxy does with a CONNECT: relay it, refuse it, or ask for a password first. */
type ProxyMode = "tunnel" | "deny" | "password";

/**
 * A CONNECT proxy on 127.0.0.1 (written here: a test needs to see and
 * refuse what it is asked). `password` accepts `me:secret` only.
 */
function startProxy(mode: ProxyMode) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: { line: string; authorization: string | null }[] = [];
  const open = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    open.add(conn);
    try {
      const buffer = new Uint8Array(8192);
      let head = "";
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) return;
        head += new TextDecoder().decode(buffer.subarray(0, n));
      }
      const [line, ...headers] = head.split("\r\n");
      const authorization = headers.find((h) => /^proxy-authorization:/i.test(h))
        ?.replace(/^[^:]+:\s*/, "") ?? null;
      seen.push({ line, authorization });
      const target = /^CONNECT (127\.0\.0\.1):(\d+) HTTP\/1\.1$/.exec(line);
      const answer = (status: string) =>
        conn.write(new TextEncoder().encode(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`));
      if (!target || mode === "deny") return void await answer("403 Forbidden");
      if (mode === "password" && authorization !== `Basic ${btoa("me:secret")}`) {
        return void await answer("407 Proxy Authentication Required");
      }
      const upstream = await Deno.connect({ hostname: target[1], port: Number(target[2]) });
      open.add(upstream);
      await conn.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
      await Promise.all([
        conn.readable.pipeTo(upstream.writable).catch(() => {}),
        upstream.readable.pipeTo(conn.writable).catch(() => {}),
      ]);
    } catch {
      // A client that went away.
    } finally {
      try {
        conn.close();
      } catch { /* closed by pipeTo */ }
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) serve(conn);
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    seen,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}

/** `login --with-token` for the TLS host, the token on stdin, with `env`. */
async function loginWithToken(
  host: string,
  configHome: string,
  env: Record<string, string>,
  ...args: string[]
): Promise<CliOutput> {
  const output = await runWithInput(
    Deno.execPath(),
    [
      "run",
      ...runFlags(`${configHome}/loopauth`),
      MAIN,
      "login",
      "--with-token",
      "--hostname",
      host,
      "--storage",
      "file",
      ...args,
    ],
    `${TOKEN}\n`,
    { env: childEnv(configHome, env) },
  );
  return { ...output, stderr: output.stderr.replace(/\n$/, "") };
}

Deno.test("a host signed by an unknown CA: one line naming DENO_CERT, exit 7; with DENO_CERT the login works", async () => {
  await using server = await startTlsHost();
  await using config = await tempConfig();
  const unknown = await loginWithToken(server.host, config.home, {});
  assert.equal(unknown.code, EXIT_CODES.network);
  assert.equal(
    unknown.stderr,
    `Error: Cannot reach ${server.host}: its TLS certificate is signed by an authority Deno does not trust (a proxy that inspects TLS?): set DENO_CERT to that CA's PEM file, or DENO_TLS_CA_STORE=system to trust the system's store`,
  );
  assert.ok(!unknown.stderr.includes(TOKEN));

  const trusted = await loginWithToken(server.host, config.home, { DENO_CERT: CA });
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal(trusted.stdout, `Logged in to ${server.host} as octocat\n`);

  const missing = await loginWithToken(server.host, config.home, {
    DENO_CERT: `${TLS}no-such-ca.pem`,
  });
  assert.equal(missing.code, EXIT_CODES.network);
  assert.equal(
    missing.stderr,
    `Error: Cannot reach ${server.host}: the CA file of DENO_CERT (or --cert) cannot be opened: set DENO_CERT to a PEM file`,
  );
});

Deno.test("through a CONNECT proxy: HTTPS_PROXY works, a refusal names the variable, NO_PROXY goes around it", async () => {
  await using server = await startTlsHost();
  await using config = await tempConfig();
  {
    await using proxy = startProxy("tunnel");
    const through = await loginWithToken(server.host, config.home, {
      DENO_CERT: CA,
      HTTPS_PROXY: proxy.url,
    });
    assert.equal(through.code, 0, through.stderr);
    assert.deepEqual(proxy.seen.map((s) => s.line), [`CONNECT ${server.host} HTTP/1.1`]);
  }
  {
    await using proxy = startProxy("deny");
    for (const variable of ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"]) {
      const refused = await loginWithToken(server.host, config.home, {
        DENO_CERT: CA,
        [variable]: proxy.url,
      });
      assert.equal(refused.code, EXIT_CODES.network, variable);
      assert.equal(
        refused.stderr,
        `Error: Cannot reach ${server.host}: the proxy of ${variable} refused to connect to it (unsuccessful tunnel): check ${variable}, or list the host in NO_PROXY`,
      );
    }
    const seen = proxy.seen.length;
    const around = await loginWithToken(server.host, config.home, {
      DENO_CERT: CA,
      HTTPS_PROXY: proxy.url,
      NO_PROXY: "127.0.0.1",
    });
    assert.equal(around.code, 0, around.stderr);
    assert.equal(proxy.seen.length, seen, "NO_PROXY: the proxy was not asked");
  }
  {
    await using proxy = startProxy("password");
    const asked = await loginWithToken(server.host, config.home, {
      DENO_CERT: CA,
      HTTPS_PROXY: proxy.url,
    });
    assert.equal(asked.code, EXIT_CODES.network);
    assert.equal(
      asked.stderr,
      `Error: Cannot reach ${server.host}: the proxy of HTTPS_PROXY wants a user name and password: set HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT`,
    );
    const url = new URL(proxy.url);
    url.username = "me";
    url.password = "secret";
    const given = await loginWithToken(server.host, config.home, {
      DENO_CERT: CA,
      HTTPS_PROXY: url.href,
    });
    assert.equal(given.code, 0, given.stderr);
    assert.equal(proxy.seen.at(-1)?.authorization, `Basic ${btoa("me:secret")}`);
  }
  // A proxy that is not there: Deno's message is the host's, so the line adds the variable.
  const gone = startProxy("tunnel");
  await gone[Symbol.asyncDispose]();
  const down = await loginWithToken(server.host, config.home, {
    DENO_CERT: CA,
    HTTPS_PROXY: gone.url,
  });
  assert.equal(down.code, EXIT_CODES.network);
  assert.match(
    down.stderr,
    new RegExp(
      `^Error: Cannot reach ${server.host}: connection refused \\(HTTPS_PROXY is set: check that proxy, or list the host in NO_PROXY\\)$`,
    ),
  );
  // With NO_PROXY set too, the line names both: whether NO_PROXY lists the host is Deno's call.
  const listed = await loginWithToken(server.host, config.home, {
    DENO_CERT: CA,
    HTTPS_PROXY: gone.url,
    NO_PROXY: "ghe.example.com",
  });
  assert.equal(listed.code, EXIT_CODES.network);
  assert.equal(
    listed.stderr.trim(),
    `Error: Cannot reach ${server.host}: connection refused (HTTPS_PROXY is set, unless NO_PROXY lists the host: check that proxy, or list the host in NO_PROXY)`,
  );
  // An http:// host is not reached through HTTPS_PROXY: no word of it.
  const plain = await loginWithToken(`http://127.0.0.1:${new URL(gone.url).port}`, config.home, {
    HTTPS_PROXY: gone.url,
  });
  assert.equal(plain.code, EXIT_CODES.network);
  assert.match(plain.stderr, /^Error: Cannot reach 127\.0\.0\.1:\d+: connection refused$/);
});

Deno.test("doctor shows the proxy and CA in effect, and names DENO_CERT when the CA is unknown", async () => {
  await using server = await startTlsHost();
  await using config = await tempConfig();
  await using proxy = startProxy("tunnel");
  const port = new URL(proxy.url).port;
  const ok = await runCli(["doctor", "--hostname", server.host, "--storage", "file"], {
    configHome: config.home,
    env: {
      DENO_CERT: CA,
      HTTPS_PROXY: `http://me:secret@127.0.0.1:${port}`,
      NO_PROXY: "ghe.example.com",
    },
  });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const lines = ok.stdout.split("\n");
  assert.ok(
    lines.includes(
      `✓ proxy: ${server.host} through HTTPS_PROXY=http://…@127.0.0.1:${port} unless NO_PROXY lists it`,
    ),
    ok.stdout,
  );
  assert.ok(lines.includes(`✓ CA: Mozilla's (default), plus DENO_CERT=${CA}`), ok.stdout);
  assert.ok(
    lines.every((line) =>
      /^[✓!·] /.test(line) || line === `A login to ${server.host} can work` || line === ""
    ),
    ok.stdout,
  );
  assert.ok(!ok.stdout.includes("me:secret"), "the proxy's password is not shown");
  assert.ok(proxy.seen.length >= 1, "doctor went through the proxy");

  const bad = await runCli(["doctor", "--hostname", server.host, "--storage", "file"], {
    configHome: config.home,
  });
  assert.equal(bad.code, EXIT_CODES.network);
  assert.match(
    bad.stdout,
    new RegExp(
      `^✗ host: Cannot reach ${server.host}: its TLS certificate is signed by an authority Deno does not trust .*set DENO_CERT to that CA's PEM file`,
      "m",
    ),
  );
  assert.equal(
    bad.stderr,
    `Error: A login to ${server.host} cannot work yet: fix the ✗ lines above`,
  );
});

Deno.test("proxyFor names the variable Deno reads, and leaves NO_PROXY's matching to Deno", () => {
  const decide = (url: string, values: Record<string, string>) => {
    const decision = proxyFor(url, (name) => values[name]);
    return [decision.proxy?.variable ?? (decision.loopback ? "loopback" : ""), decision.noProxy]
      .filter(Boolean).join(" unless ");
  };
  const https = "https://127.0.0.1:8443/";
  assert.equal(decide(https, {}), "");
  assert.equal(decide(https, { HTTP_PROXY: "http://p:1" }), "", "HTTP_PROXY is for http://");
  // loopauth reaches an http:// loopback address directly (Deno's fetch alone would not).
  assert.equal(decide("http://127.0.0.1/", { HTTP_PROXY: "http://p:1" }), "loopback");
  assert.equal(decide("http://[::1]:8080/", { ALL_PROXY: "http://p:1" }), "loopback");
  assert.equal(decide("http://10.0.0.1/", { HTTP_PROXY: "http://p:1" }), "HTTP_PROXY");
  assert.equal(decide(https, { ALL_PROXY: "http://a:1", HTTPS_PROXY: "http://b:1" }), "ALL_PROXY");
  assert.equal(
    decide(https, { HTTPS_PROXY: "http://a:1", https_proxy: "http://b:1" }),
    "HTTPS_PROXY",
  );
  assert.equal(decide(https, { https_proxy: "http://b:1" }), "https_proxy");
  // NO_PROXY is named, never decided here: Deno decides (the CONNECT test above shows it does).
  const proxied = { HTTPS_PROXY: "http://p:1" };
  assert.equal(decide(https, { ...proxied, NO_PROXY: "127.0.0.1" }), "HTTPS_PROXY unless NO_PROXY");
  assert.equal(
    decide(https, { ...proxied, no_proxy: "10.0.0.0/8" }),
    "HTTPS_PROXY unless no_proxy",
  );
  assert.equal(decide(https, { NO_PROXY: "127.0.0.1" }), "", "NO_PROXY alone: no proxy at all");
  const ghe = "https://ghe.example.com/api/v3";
  assert.deepEqual(
    proxyFor(ghe, (name) => (name === "HTTPS_PROXY" ? "http://me:pw@p:3128" : undefined)),
    {
      proxy: { variable: "HTTPS_PROXY", url: "http://…@p:3128" },
    },
  );
});
