/**
 * Every route of a resource login has its failure walked, for
 * `login --resource` and for `mcp-proxy` (started as an MCP client starts
 * it: one `initialize` on stdin, which stays open): the MCP host down, the
 * authorization server down, its metadata failing, registration refused, a
 * client id it does not know, a wrong client secret, the callback port
 * taken, the device code refused or expired. Each ends on its own with one
 * `Error:` line on stderr (no stack), the documented exit code
 * (docs/exit_codes.md), and for mcp-proxy nothing but JSON-RPC on stdout:
 * the request's error answer.
 */
import assert from "node:assert/strict";
import { startDevMcp } from "../../lib/dev/mcp.ts";
import { approveDeviceCode } from "../../lib/dev/user.ts";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { DEVICE_GRANT_TYPE } from "../../lib/core/types.ts";
import { Cli, tempConfig } from "../helpers.ts";
import { deviceAnswer, serveMcp, serverMetadataOf } from "../helpers/mcp.ts";

/** One failure to walk: where, with what flags, what the user must see. */
interface Walk {
  url: string;
  args?: string[];
  env?: Record<string, string>;
  /** The one error line and the exit code. */
  line: string;
  exit: number;
  /** Whether the error is the only line (it comes before any route shows itself). */
  alone: boolean;
  /** What the user does meanwhile (enter or refuse a device code, open the URL). */
  act?: (cli: Cli) => Promise<void>;
  /** For login --resource only. */
  loginOnly?: boolean;
  close?: () => Promise<void>;
}

/** A port that was listened on and closed: connecting to it is refused. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The user code a run printed. */
async function userCode(cli: Cli): Promise<string> {
  return /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(await cli.waitForLine(/one-time code: /))![1];
}

/** A client registered at the dev MCP server with a secret (the device grant included). */
async function confidentialClient(origin: string): Promise<string> {
  const response = await fetch(`${origin}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      redirect_uris: ["http://127.0.0.1/callback"],
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT_TYPE],
    }),
  });
  return (await response.json()).client_id;
}

const WALKS: Record<string, () => Promise<Walk>> = {
  "the MCP host is down (connection refused)": () => {
    const url = `http://127.0.0.1:${deadPort()}/mcp`;
    return Promise.resolve({
      url,
      line: `Error: Cannot reach ${url}: connection refused`,
      exit: EXIT_CODES.network,
      alone: true,
    });
  },
  "the authorization server is down": () => {
    const dead = `http://127.0.0.1:${deadPort()}`;
    const server = serveMcp({
      resourceMetadata: (origin) => ({ resource: `${origin}/mcp`, authorization_servers: [dead] }),
    });
    return Promise.resolve({
      url: server.url,
      line: `Error: Cannot reach the metadata of ${dead}: connection refused`,
      exit: EXIT_CODES.network,
      alone: true,
      close: () => server[Symbol.asyncDispose](),
    });
  },
  "the authorization server's metadata answers HTTP 500": () => {
    const server = serveMcp({
      answer: (path) =>
        path === "/.well-known/oauth-authorization-server"
          ? new Response("oops", { status: 500 })
          : undefined,
    });
    return Promise.resolve({
      url: server.url,
      line: `Error: ${server.origin}/.well-known/oauth-authorization-server answered HTTP 500`,
      exit: EXIT_CODES.network,
      alone: true,
      close: () => server[Symbol.asyncDispose](),
    });
  },
  "dynamic registration is refused (400 invalid_client_metadata)": () => {
    const server = serveMcp({
      answer: (path) =>
        path === "/register"
          ? Response.json({ error: "invalid_client_metadata" }, { status: 400 })
          : undefined,
    });
    return Promise.resolve({
      url: server.url,
      line:
        `Error: ${server.origin} refused to register loopauth (invalid_client_metadata): give a registered client id with --client-id`,
      exit: EXIT_CODES.oauth,
      alone: true,
      close: () => server[Symbol.asyncDispose](),
    });
  },
  "--client-id unknown to the authorization server": () => {
    const mcp = startDevMcp();
    return Promise.resolve({
      url: mcp.url,
      args: ["--client-id", "nobody"],
      line:
        `Error: The device authorization endpoint of ${mcp.origin} refused client nobody or its secret (invalid_client): check --client-id and the client secret`,
      exit: EXIT_CODES.oauth,
      alone: false,
      close: () => mcp.close(),
    });
  },
  "a wrong client secret": async () => {
    const mcp = startDevMcp();
    const id = await confidentialClient(mcp.origin);
    return {
      url: mcp.url,
      args: ["--client-id", id],
      env: { LOOPAUTH_CLIENT_SECRET: "not-the-secret" },
      line:
        `Error: The device authorization endpoint of ${mcp.origin} refused client ${id} or its secret (invalid_client): check --client-id and the client secret`,
      exit: EXIT_CODES.oauth,
      alone: false,
      close: () => mcp.close(),
    };
  },
  "a wrong client secret on the browser route (the code exchange)": async () => {
    const mcp = startDevMcp();
    const id = await confidentialClient(mcp.origin);
    return {
      url: mcp.url,
      args: ["--client-id", id, "--web", "--no-browser"],
      env: { LOOPAUTH_CLIENT_SECRET: "not-the-secret" },
      line:
        `Error: The token endpoint of ${mcp.origin} refused client ${id} or its secret (invalid_client): check --client-id and the client secret`,
      exit: EXIT_CODES.oauth,
      alone: false,
      loginOnly: true,
      act: async (cli) => {
        const url = (await cli.waitForLine(/^\s*http:\/\/127\.0\.0\.1:\d+\/authorize\?/)).trim();
        await (await fetch(url)).body?.cancel();
      },
      close: () => mcp.close(),
    };
  },
  "the callback port is taken (--port of a listening socket)": () => {
    const mcp = startDevMcp();
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    return Promise.resolve({
      url: mcp.url,
      args: ["--port", String(port)],
      line:
        `Error: Port ${port} on 127.0.0.1 is already in use: free it or choose another with --port`,
      exit: EXIT_CODES.port_in_use,
      alone: true,
      close: async () => {
        listener.close();
        await mcp.close();
        // Nothing was registered with a redirect URI on the taken port.
        assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 0);
      },
    });
  },
  "--device where the authorization server offers no device flow": () => {
    const mcp = startDevMcp({ deviceFlow: false });
    return Promise.resolve({
      url: mcp.url,
      args: ["--device"],
      line: `Error: ${mcp.url} advertises no device_authorization_endpoint: log in with --web`,
      exit: EXIT_CODES.oauth,
      alone: true,
      close: () => mcp.close(),
    });
  },
  "the device code is refused (access_denied)": () => {
    const mcp = startDevMcp({ deviceInterval: 0.2 });
    return Promise.resolve({
      url: mcp.url,
      args: ["--device"],
      line: "Error: Access was denied: nothing was stored",
      exit: EXIT_CODES.access_denied,
      alone: false,
      act: async (cli) => {
        await approveDeviceCode(mcp.origin, await userCode(cli), { decision: "cancel" });
      },
      close: () => mcp.close(),
    });
  },
  "the authorization server answers a poll with expired_token": () => {
    const server = serveMcp({
      serverMetadata: (origin) =>
        serverMetadataOf(origin, {
          device_authorization_endpoint: `${origin}/device`,
        }),
      answer: (path) =>
        path === "/device"
          ? deviceAnswer("http://127.0.0.1/device", 0.2)
          : path === "/token"
          ? Response.json({ error: "expired_token" }, { status: 400 })
          : undefined,
    });
    return Promise.resolve({
      url: server.url,
      args: ["--device"],
      line: "Error: The device code expired before it was entered: run the command again",
      exit: EXIT_CODES.timeout,
      alone: false,
      close: () => server[Symbol.asyncDispose](),
    });
  },
  "the device code's lifetime runs out": () => {
    const mcp = startDevMcp({ deviceInterval: 0.2, deviceExpiresIn: 1 });
    return Promise.resolve({
      url: mcp.url,
      args: ["--device"],
      line: "Error: The device code expired before it was entered: run the command again",
      exit: EXIT_CODES.timeout,
      alone: false,
      close: () => mcp.close(),
    });
  },
};

/** The initialize request an MCP client sends first. */
const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "walk", version: "1.0.0" },
  },
});

/** The run's stderr: one `Error:` line, the last, no stack; alone when `walk.alone`. */
function assertOneLine(lines: string[], walk: Walk): void {
  const shown = lines.join("\n");
  assert.deepEqual(lines.filter((l) => l.startsWith("Error:")), [walk.line], shown);
  assert.equal(lines.at(-1), walk.line, shown);
  assert.ok(!lines.some((l) => /^\s+at /.test(l)), shown);
  if (walk.alone) assert.deepEqual(lines, [walk.line]);
}

for (const [name, setup] of Object.entries(WALKS)) {
  Deno.test(`login --resource: ${name} → one line, its exit code`, async () => {
    await using config = await tempConfig();
    const walk = await setup();
    try {
      const cli = new Cli(["login", "--resource", walk.url, ...walk.args ?? []], {
        configHome: config.home,
        env: walk.env,
      });
      await walk.act?.(cli);
      const { code, stdout } = await cli.output();
      assert.equal(stdout, "");
      assertOneLine(cli.stderrLines.filter(Boolean), walk);
      assert.equal(code, walk.exit, cli.stderrLines.join("\n"));
    } finally {
      await walk.close?.();
    }
  });
  Deno.test(`mcp-proxy: ${name} → the request's JSON-RPC error, one line on stderr, its exit code`, async () => {
    const walk = await setup();
    if (walk.loginOnly) return await walk.close?.();
    await using config = await tempConfig();
    try {
      const cli = new Cli(["mcp-proxy", walk.url, ...walk.args ?? []], {
        configHome: config.home,
        env: walk.env,
        input: `${INITIALIZE}\n`,
      });
      await walk.act?.(cli);
      const { code, stdout } = await cli.output();
      // Nothing but JSON-RPC on stdout: the initialize request's error answer.
      const answers = stdout.trim().split("\n").map((line) => JSON.parse(line));
      assert.equal(answers.length, 1, stdout);
      assert.equal(answers[0].jsonrpc, "2.0");
      assert.equal(answers[0].id, 1);
      assert.equal(`Error: ${answers[0].error.message}`, walk.line);
      assertOneLine(cli.stderrLines.filter(Boolean), walk);
      assert.equal(code, walk.exit, cli.stderrLines.join("\n"));
    } finally {
      await walk.close?.();
    }
  });
}

Deno.test("login --resource: a registration its authorization server forgot, refused at the device route → the same login registers anew and its new device code logs in", async () => {
  await using config = await tempConfig();
  let mcp = startDevMcp({ deviceInterval: 0.2 });
  const url = mcp.url;
  const login = async () => {
    const cli = new Cli(["login", "--resource", url], { configHome: config.home });
    await approveDeviceCode(mcp.origin, await userCode(cli));
    return { ...await cli.output(), lines: cli.stderrLines.filter(Boolean) };
  };
  try {
    assert.equal((await login()).code, 0);
    // The same server restarted on its port: it knows no client any more.
    await mcp.close();
    mcp = startDevMcp({ port: Number(new URL(url).port), deviceInterval: 0.2 });
    const again = await login();
    assert.equal(again.code, 0, again.lines.join("\n"));
    assert.deepEqual(
      mcp.requests.filter((r) => r.path === "/device_authorization").map((r) => r.status),
      [401, 200],
    );
    assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 1);
    assert.ok(!again.lines.some((l) => l.startsWith("Error:")), again.lines.join("\n"));
  } finally {
    await mcp.close();
  }
});

Deno.test("login --resource: the port of a stored registration taken by another program → one line, exit 10; --port as it says registers for that port and logs in", async () => {
  await using config = await tempConfig();
  const mcp = startDevMcp({ deviceInterval: 0.2 });
  const login = (...extra: string[]) =>
    new Cli(["login", "--resource", mcp.url, ...extra], { configHome: config.home });
  let listener: Deno.Listener | undefined;
  try {
    const first = login();
    await approveDeviceCode(mcp.origin, await userCode(first));
    assert.equal((await first.output()).code, 0);
    const stored = JSON.parse(await Deno.readTextFile(`${config.dir}/config.json`));
    const [registration] = Object.values(stored.registrations) as { redirectUri: string }[];
    const port = Number(new URL(registration.redirectUri).port);
    listener = Deno.listen({ hostname: "127.0.0.1", port });

    const taken = login();
    const { code } = await taken.output();
    const line =
      `Error: Port ${port} on 127.0.0.1 is already in use: free it or choose another with --port`;
    assertOneLine(taken.stderrLines.filter(Boolean), {
      url: mcp.url,
      line,
      exit: EXIT_CODES.port_in_use,
      alone: false,
    });
    assert.equal(code, EXIT_CODES.port_in_use);

    const other = deadPort();
    const again = login("--port", String(other));
    const url = (await again.waitForLine(/^\s*http:\/\/127\.0\.0\.1:\d+\/authorize\?/)).trim();
    assert.equal(new URL(new URL(url).searchParams.get("redirect_uri")!).port, String(other));
    await approveDeviceCode(mcp.origin, await userCode(again));
    const done = await again.output();
    assert.equal(done.code, 0, done.stderr);
    assert.equal(mcp.requests.filter((r) => r.path === "/register").length, 2);
  } finally {
    listener?.close();
    await mcp.close();
  }
});
