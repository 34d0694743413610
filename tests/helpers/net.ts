/**
 * Raw sockets and small servers on 127.0.0.1: a hand-written request, a
 * port check, and the checkout served over HTTP (for `deno run <URL>`).
 * @module
 */
import { extname, join, normalize } from "node:path";
import { INSTALL_SCRIPT } from "../../scripts/permissions.ts";
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
  ".sh": "text/plain; charset=utf-8",
};

/** Options of {@linkcode serveCheckout}. */
export interface ServeCheckoutOptions {
  /** Changes a file's body before it is served (a compromised server); `path` is e.g. `lib/core/version.ts`. */
  rewrite?: (path: string, body: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>;
  /** Hears of every request's path (to count what was fetched). */
  onRequest?: (path: string) => void;
}

/**
 * Serves main.ts, lib/ and install.sh of the checkout, read-only, on 127.0.0.1,
 * under `origin`: the server's origin and a path of its own. (Deno keeps a
 * remote module in its cache for good, keyed by URL: without the path, a
 * server on a port an earlier run used would be answered from that run's
 * files, older code included.)
 */
export function serveCheckout(
  options: ServeCheckoutOptions = {},
): Deno.HttpServer<Deno.NetAddr> & { origin: string } {
  const own = `/${crypto.randomUUID().slice(0, 8)}/`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const requested = decodeURIComponent(new URL(request.url).pathname);
    if (!requested.startsWith(own)) return new Response("Not found", { status: 404 });
    const path = normalize(requested.slice(own.length)).replace(/^[/\\]+/, "");
    options.onRequest?.(path);
    const type = TYPES[extname(path)];
    if (!type || !(path === "main.ts" || path === INSTALL_SCRIPT || /^lib[/\\]/.test(path))) {
      return new Response("Not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(join(ROOT, path));
      return new Response(options.rewrite?.(path, body) ?? body, {
        headers: { "content-type": type },
      });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
  return Object.assign(server, {
    origin: `http://127.0.0.1:${server.addr.port}${own.slice(0, -1)}`,
  });
}
