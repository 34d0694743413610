import assert from "node:assert/strict";
import { runHostileScenario } from "./hostile.ts";

Deno.test("hostile barrage: 2,000 bogus requests from 50 clients while a login waits", async () => {
  const figures = await runHostileScenario({ requests: 2000, concurrency: 50 });
  const answered = Object.entries(figures.statuses).reduce((sum, [, n]) => sum + n, 0);
  assert.equal(answered, 2000);
  for (const status of Object.keys(figures.statuses)) {
    assert.ok(Number(status) >= 400 && Number(status) < 500, `only 4xx answers, got ${status}`);
  }
  assert.ok(
    figures.maxMs < 2000,
    `every bad request answered quickly (worst ${figures.maxMs.toFixed(0)} ms)`,
  );
  assert.equal(figures.loginPageStatus, 200, "the real callback still works");
  assert.equal(figures.loginExitCode, 0, "the real login completes");
  assert.ok(
    figures.exitAfterCallbackMs < 1500,
    `idle and half-open connections do not hold the exit (${
      figures.exitAfterCallbackMs.toFixed(0)
    } ms)`,
  );
  // Flat memory: the last three quarters of the barrage add little to what the first quarter used.
  const growthKiB = figures.rssAfterKiB - figures.rssQuarterKiB;
  assert.ok(growthKiB < 16 * 1024, `RSS grew ${growthKiB} KiB after the first quarter`);
  console.log(JSON.stringify(figures));
});
