/**
 * Prints the figures of the hostile-request scenario (tests/hostile.ts):
 * answers by status, latency, and the login process's memory before,
 * during and after the barrage, each goal with "met" or "not met". The same
 * barrage also hits the floor, a plain `Deno.serve` answering 400
 * (scripts/peers/deno_server.ts), in turn with the login: a latency goal the
 * floor misses alone is out of reach on this machine (scripts/machine.ts).
 * Usage: scripts/hostile.ts [REQUESTS] [CLIENTS] [ROUNDS]
 */
import { fileURLToPath } from "node:url";
import {
  barrage,
  holdConnections,
  type HostileFigures,
  percentiles,
  runHostileScenario,
} from "../tests/hostile.ts";
import { within } from "../lib/core/timers.ts";
import { machineLine, verdict } from "./machine.ts";
import { median } from "./median.ts";

/** RSS growth after the first quarter that still counts as flat. */
const FLAT_MB = 5;
const requests = Number(Deno.args[0] ?? 2000);
const concurrency = Number(Deno.args[1] ?? 50);
const rounds = Number(Deno.args[2] ?? 5);

/** One barrage against the floor server, with the same held connections as the login gets. */
async function floorBarrage(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      fileURLToPath(new URL("./peers/deno_server.ts", import.meta.url)),
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const held: Deno.Conn[] = [];
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    // Bounded: a floor server that never says its port fails the bench instead of hanging it.
    const line = await within(reader.read(), 30_000);
    const port = Number(line?.value?.trim());
    if (!Number.isInteger(port) || port <= 0) {
      throw new Error("The floor server printed no port within 30 s");
    }
    reader.releaseLock();
    held.push(...await holdConnections(port, 20));
    const { times } = await barrage(port, { requests, concurrency });
    return percentiles(times).p99Ms;
  } finally {
    for (const conn of held) conn.close();
    await child.stdin.close();
    await child.stdout.cancel().catch(() => {});
    await child.status;
  }
}

console.log(machineLine());
const runs: HostileFigures[] = [];
const floors: number[] = [];
for (let i = 0; i < rounds; i++) {
  runs.push(await runHostileScenario({ requests, concurrency }));
  floors.push(await floorBarrage());
}
const figures = runs.at(-1)!;
const p99 = median(runs.map((r) => r.p99Ms));
const floorP99 = Math.min(...floors);
const exitMs = median(runs.map((r) => r.exitAfterCallbackMs));
const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
const met = (ok: boolean) => ok ? "met" : "not met";
// The largest growth of any round: flat means flat every time.
const growth = Math.max(...runs.map((r) => r.rssAfterKiB - r.rssQuarterKiB)) / 1024;
console.log(`bogus requests: ${requests} from ${concurrency} concurrent clients, ${rounds} rounds`);
console.log(`answers by status (last round): ${JSON.stringify(figures.statuses)}`);
for (const [index, r] of runs.entries()) {
  console.log(
    `round ${index + 1}: answer time median ${r.medianMs.toFixed(1)} ms, p99 ${
      r.p99Ms.toFixed(1)
    } ms, worst ${r.maxMs.toFixed(1)} ms; the floor (plain Deno.serve): p99 ${
      floors[index].toFixed(1)
    } ms`,
  );
}
console.log(
  `login process RSS (last round): before ${mb(figures.rssBeforeKiB)}, after 1/4 ${
    mb(figures.rssQuarterKiB)
  }, peak ${mb(figures.rssPeakKiB)}, after all ${mb(figures.rssAfterKiB)}`,
);
console.log(
  `barrage p99: ${p99.toFixed(1)} ms, median of ${rounds} rounds (goal ≤ 20 ms: ${
    verdict(p99, 20, { name: "a plain Deno.serve", figure: floorP99 }, (v) => `${v.toFixed(1)} ms`)
  })`,
);
console.log(
  `barrage RSS after the first quarter: ${growth >= 0 ? "+" : ""}${
    growth.toFixed(1)
  } MB, the most of ${rounds} rounds (goal flat, ≤ ${FLAT_MB} MB: ${met(growth <= FLAT_MB)})`,
);
console.log(
  `barrage callback → exit: ${exitMs.toFixed(1)} ms with idle connections open, login exit ${
    runs.map((r) => r.loginExitCode).join(",")
  } (goal < 20 ms: ${met(exitMs < 20 && runs.every((r) => r.loginExitCode === 0))})`,
);
