/**
 * Raw sockets and small servers on 127.0.0.1: a hand-written request, a
 * port check, and the checkout served over HTTP (for `deno run <URL>`).
 * @module
 */
import { extname, join, normalize } from "node:path";
import { ROOT } from "./env.ts";

/**
 * Sends a raw HTTP/1.x request to 127.0.0.1 (or `options.hostname`, e.g.
 * `::1`) and returns the status code (0 when the server closed without one).
 */
export async function rawRequest(
  port: number,
  request: string,
  options: { hostname?: string } = {},
): Promise<number> {
  const conn = await Deno.connect({ hostname: options.hostname ?? "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

/** Whether something listens on 127.0.0.1:port (or `options.hostname`, e.g. `::1`). */
export async function isListening(
  port: number,
  options: { hostname?: string } = {},
): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: options.hostname ?? "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".json": "application/json",
};

/** Serves main.ts and lib/ of the checkout, read-only, on 127.0.0.1. */
export function serveCheckout(): Deno.HttpServer<Deno.NetAddr> & { origin: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = normalize(decodeURIComponent(new URL(request.url).pathname)).replace(
      /^[/\\]+/,
      "",
    );
    const type = TYPES[extname(path)];
    if (!type || !(path === "main.ts" || /^lib[/\\]/.test(path))) {
      return new Response("Not found", { status: 404 });
    }
    try {
      return new Response(await Deno.readFile(join(ROOT, path)), {
        headers: { "content-type": type },
      });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
  return Object.assign(server, { origin: `http://127.0.0.1:${server.addr.port}` });
}
