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

/**
 * Opens `count` connections to 127.0.0.1:`port` and leaves them open: half of
 * them half-open (a partial request line), half idle (nothing sent).
 */
export async function holdConnections(port: number, count: number): Promise<Deno.Conn[]> {
  const held: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    if (i % 2) await conn.write(new TextEncoder().encode("GET /callback?sta"));
    held.push(conn);
  }
  return held;
}

/** Answers to a barrage: count by status code, and each answer's time, ms, sorted. */
export interface BarrageAnswers {
  statuses: Record<string, number>;
  times: number[];
}

/**
 * Sends `requests` bogus requests (each kind in turn) to 127.0.0.1:`port` from
 * `concurrency` clients at once. Throws when one got anything but a 4xx, or
 * when an answer reflected a payload unescaped. `onQuarter` runs once a quarter
 * of them has been sent.
 */
export async function barrage(
  port: number,
  options: { requests: number; concurrency: number; onQuarter?: () => Promise<void> },
): Promise<BarrageAnswers> {
  const statuses: Record<string, number> = {};
  const times: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (next < options.requests) {
      const i = next++;
      const { status, ms, body } = await send(port, bogus(i, port));
      statuses[status] = (statuses[status] ?? 0) + 1;
      times.push(ms);
      if (status < 400 || status > 499) {
        throw new Error(`Bogus request ${i} got HTTP ${status}: ${bogus(i, port).slice(0, 80)}`);
      }
      if (/<script>alert|<img src=x/.test(body)) {
        throw new Error(`Request ${i} reflected a payload`);
      }
      if (i === Math.floor(options.requests / 4)) await options.onQuarter?.();
    }
  }));
  return { statuses, times: times.sort((a, b) => a - b) };
}

/** Median, 99th percentile and worst of sorted times. */
export function percentiles(sorted: number[]): { medianMs: number; p99Ms: number; maxMs: number } {
  return {
    medianMs: sorted[Math.floor(sorted.length / 2)],
    p99Ms: sorted[Math.ceil(sorted.length * 0.99) - 1],
    maxMs: sorted.at(-1)!,
  };
}

/** Resident set size of a process, KiB (`ps`; Deno reads /proc only with --allow-all). */
export async function rssKiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) || 0;
}

/**
 * The peak resident set size of a live process, KiB: the kernel's high-water mark
 * (VmHWM in /proc/PID/status, read by bash's builtins; Deno reads /proc only with
 * --allow-all). Sampling `ps` every 50 ms took CPU from the measured server where
 * starting a process is slow (docs/performance.md). 0 where /proc has no such file.
 */
export async function peakRssKiB(pid: number): Promise<number> {
  const script = 'while read -r key value _; do [ "$key" = VmHWM: ] && echo "$value"; done' +
    " 2>/dev/null </proc/$1/status";
  const out = await new Deno.Command("bash", { args: ["-c", script, "hwm", String(pid)] })
    .output();
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
    held.push(...await holdConnections(port, options.idle ?? 20));
    let rssQuarterKiB = 0;
    const { statuses, times } = await barrage(port, {
      requests,
      concurrency,
      onQuarter: async () => void (rssQuarterKiB = await rssKiB(pid)),
    });
    const rssAfterKiB = await rssKiB(pid);
    const rssPeakKiB = Math.max(await peakRssKiB(pid), rssAfterKiB);
    const page = await actAsUser(url);
    const answered = performance.now();
    const { code } = await cli.output();
    const exitAfterCallbackMs = performance.now() - answered;
    return {
      requests,
      concurrency,
      statuses,
      ...percentiles(times),
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
