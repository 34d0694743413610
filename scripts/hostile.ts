/**
 * Prints the figures of the hostile-request scenario (tests/hostile.ts):
 * answers by status, latency, and the login process's memory before,
 * during and after the barrage, each goal with "met" or "not met".
 * Usage: scripts/hostile.ts [REQUESTS] [CLIENTS]
 */
import { runHostileScenario } from "../tests/hostile.ts";

/** RSS growth after the first quarter that still counts as flat. */
const FLAT_MB = 5;

const figures = await runHostileScenario({
  requests: Number(Deno.args[0] ?? 2000),
  concurrency: Number(Deno.args[1] ?? 50),
});
const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
const verdict = (ok: boolean) => ok ? "met" : "not met";
const growth = (figures.rssAfterKiB - figures.rssQuarterKiB) / 1024;
console.log(`bogus requests: ${figures.requests} from ${figures.concurrency} concurrent clients`);
console.log(`answers by status: ${JSON.stringify(figures.statuses)}`);
console.log(
  `answer time: median ${figures.medianMs.toFixed(1)} ms, p99 ${
    figures.p99Ms.toFixed(1)
  } ms, worst ${figures.maxMs.toFixed(1)} ms`,
);
console.log(
  `login process RSS: before ${mb(figures.rssBeforeKiB)}, after 1/4 ${
    mb(figures.rssQuarterKiB)
  }, peak ${mb(figures.rssPeakKiB)}, after all ${mb(figures.rssAfterKiB)}`,
);
console.log(
  `barrage p99: ${figures.p99Ms.toFixed(1)} ms (goal ≤ 20 ms: ${verdict(figures.p99Ms <= 20)})`,
);
console.log(
  `barrage RSS after the first quarter: ${growth >= 0 ? "+" : ""}${
    growth.toFixed(1)
  } MB (goal flat, ≤ ${FLAT_MB} MB: ${verdict(growth <= FLAT_MB)})`,
);
console.log(
  `barrage callback → exit: ${
    figures.exitAfterCallbackMs.toFixed(1)
  } ms with idle connections open, login exit ${figures.loginExitCode} (goal < 20 ms: ${
    verdict(figures.exitAfterCallbackMs < 20 && figures.loginExitCode === 0)
  })`,
);
