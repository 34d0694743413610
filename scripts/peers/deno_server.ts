/**
 * The floor of the barrage: a plain `Deno.serve` on 127.0.0.1:0 that answers
 * every request 400 with a short page, as the callback server answers a bogus
 * one, with none of its checks. Prints its port, then serves until stdin closes.
 *
 * Usage: deno run --allow-net=127.0.0.1 deno_server.ts
 */
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, () =>
  new Response("<!doctype html><html><title>Bad request</title><p>Bad request.</p></html>", {
    status: 400,
    headers: { "content-type": "text/html; charset=utf-8" },
  }));
for await (const _ of Deno.stdin.readable) {
  // Serve until stdin closes.
}
await server.shutdown();
