/**
 * Prints the figures of the hostile-request scenario (tests/hostile.ts):
 * answers by status, latency, and the login process's memory before,
 * during and after the barrage. Usage: scripts/hostile.ts [REQUESTS] [CLIENTS]
 */
import { runHostileScenario } from "../tests/hostile.ts";

const figures = await runHostileScenario({
  requests: Number(Deno.args[0] ?? 2000),
  concurrency: Number(Deno.args[1] ?? 50),
});
const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
console.log(`bogus requests: ${figures.requests} from ${figures.concurrency} concurrent clients`);
console.log(`answers by status: ${JSON.stringify(figures.statuses)}`);
console.log(
  `answer time: median ${figures.medianMs.toFixed(1)} ms, worst ${figures.maxMs.toFixed(1)} ms`,
);
console.log(
  `login process RSS: before ${mb(figures.rssBeforeKiB)}, after 1/4 ${
    mb(figures.rssQuarterKiB)
  }, peak ${mb(figures.rssPeakKiB)}, after all ${mb(figures.rssAfterKiB)} (growth after 1/4: ${
    mb(figures.rssAfterKiB - figures.rssQuarterKiB)
  })`,
);
console.log(
  `real login after the barrage: exit ${figures.loginExitCode}, callback → exit ${
    figures.exitAfterCallbackMs.toFixed(1)
  } ms with idle connections open`,
);
