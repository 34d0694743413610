/**
 * The hostile-request scenario: while a real `loopauth login` waits, a
 * barrage of bogus requests from many concurrent clients hits its callback
 * port, with half-open and idle connections held open. Then the real
 * callback arrives and the login must still complete. Used by
 * tests/security/local_test.ts (assertions) and scripts/hostile.ts (figures).
 * @module
 */
import { actAsUser, startDevProvider } from "../lib/dev/provider.ts";
import { Cli, loginArgs, secretEnv, tempConfig } from "./helpers.ts";

/** What the scenario measured. */
export interface HostileFigures {
  /** Bogus requests sent. */
  requests: number;
  /** Concurrent clients. */
  concurrency: number;
  /** Count of answers by status code (0 = closed without an answer). */
  statuses: Record<string, number>;
  /** Median, 99th-percentile and worst time to an answer, ms. */
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** RSS of the login process, KiB: before, after a quarter, peak, after all. */
  rssBeforeKiB: number;
  rssQuarterKiB: number;
  rssPeakKiB: number;
  rssAfterKiB: number;
  /** The real login after the barrage. */
  loginExitCode: number;
  loginPageStatus: number;
  /** Callback answered → process exit, with idle connections still open, ms. */
  exitAfterCallbackMs: number;
}

const XSS = encodeURIComponent(
  `<script>alert(document.cookie)</script>"'><img src=x onerror=alert(1)>`,
);

/** The bogus request number `i` for a port (each kind in turn). */
function bogus(i: number, port: number): string {
  const host = `127.0.0.1:${port}`;
  const kinds = [
    `GET /callback?code=x HTTP/1.1\r\nHost: ${host}\r\n\r\n`, // no state
    `GET /callback?code=x&state=forged${i} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    `GET /callback?code=x&state=s HTTP/1.1\r\nHost: attacker.example\r\n\r\n`, // DNS rebinding
    `GET /callback?code=x&state=s HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`,
    `GET /callback?state=${"A".repeat(9000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, // oversized URL
    `GET /callback?code=x HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${"B".repeat(64 * 1024)}\r\n\r\n`, // oversized header
    `GET /callback?state=bad&error=${XSS}&error_description=${XSS} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    `GET /admin HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    `POST /callback?code=x HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 3\r\n\r\nabc`,
    `DELETE /callback HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    `GET /callback?code=x&state=s HTTP/1.0\r\n\r\n`, // HTTP/1.0 without Host
    `GET /favicon.ico HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
  ];
  return kinds[i % kinds.length];
}

async function send(
  port: number,
  request: string,
): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  try {
    await conn.write(new TextEncoder().encode(request)).catch(() => 0);
    const buffer = new Uint8Array(16 * 1024);
    while (!text.includes("\r\n\r\n") || text.length < 200) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (text.includes("</html>")) break;
    }
  } finally {
    conn.close();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, ms: performance.now() - started, body: text };
}

/** Resident set size of a process, KiB (`ps`; Deno reads /proc only with --allow-all). */
export async function rssKiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) || 0;
}

/**
 * Runs the scenario and returns its figures. Throws when a bogus request
 * got anything but a 4xx, or when an answer reflected a payload unescaped.
 */
export async function runHostileScenario(
  options: { requests?: number; concurrency?: number; idle?: number } = {},
): Promise<HostileFigures> {
  const requests = options.requests ?? 2000;
  const concurrency = options.concurrency ?? 50;
  const provider = startDevProvider({ autoApprove: true });
  await using config = await tempConfig();
  const held: Deno.Conn[] = [];
  try {
    const cli = new Cli(loginArgs(provider), { configHome: config.home, env: secretEnv(provider) });
    const url = await cli.authorizationUrl();
    const port = Number(new URL(new URL(url).searchParams.get("redirect_uri")!).port);
    const pid = cli.child.pid;
    const rssBeforeKiB = await rssKiB(pid);
    // Half-open (a partial request line) and idle (nothing sent) connections stay open throughout.
    for (let i = 0; i < (options.idle ?? 20); i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      if (i % 2) await conn.write(new TextEncoder().encode("GET /callback?sta"));
      held.push(conn);
    }
    const statuses: Record<string, number> = {};
    const times: number[] = [];
    let next = 0;
    let rssQuarterKiB = 0;
    let rssPeakKiB = rssBeforeKiB;
    const sampler = setInterval(async () => {
      rssPeakKiB = Math.max(rssPeakKiB, await rssKiB(pid).catch(() => 0));
    }, 50);
    try {
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          const i = next++;
          const { status, ms, body } = await send(port, bogus(i, port));
          statuses[status] = (statuses[status] ?? 0) + 1;
          times.push(ms);
          if (status < 400 || status > 499) {
            throw new Error(
              `Bogus request ${i} got HTTP ${status}: ${bogus(i, port).slice(0, 80)}`,
            );
          }
          if (/<script>alert|<img src=x/.test(body)) {
            throw new Error(`Request ${i} reflected a payload`);
          }
          if (i === Math.floor(requests / 4)) rssQuarterKiB = await rssKiB(pid);
        }
      }));
    } finally {
      clearInterval(sampler);
    }
    const rssAfterKiB = await rssKiB(pid);
    rssPeakKiB = Math.max(rssPeakKiB, rssAfterKiB);
    const page = await actAsUser(url);
    const answered = performance.now();
    const { code } = await cli.output();
    const exitAfterCallbackMs = performance.now() - answered;
    times.sort((a, b) => a - b);
    return {
      requests,
      concurrency,
      statuses,
      medianMs: times[Math.floor(times.length / 2)],
      p99Ms: times[Math.ceil(times.length * 0.99) - 1],
      maxMs: times.at(-1)!,
      rssBeforeKiB,
      rssQuarterKiB,
      rssPeakKiB,
      rssAfterKiB,
      loginExitCode: code,
      loginPageStatus: page.status,
      exitAfterCallbackMs,
    };
  } finally {
    for (const conn of held) conn.close();
    await provider.close();
  }
}
