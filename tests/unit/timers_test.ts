/** lib/core/timers.ts: timers on AbortSignal.timeout instead of setTimeout. */
import assert from "node:assert/strict";
import { LoopauthError } from "../../lib/core/errors.ts";
import { after, sleep, within } from "../../lib/core/timers.ts";

Deno.test("after fires once; a cancelled one never fires", async () => {
  let fired = 0;
  let cancelledFired = false;
  after(5, () => fired++);
  after(5, () => cancelledFired = true)();
  await sleep(40);
  assert.equal(fired, 1);
  assert.equal(cancelledFired, false);
});

Deno.test("sleep waits; an abort ends it at once with the abort's reason", async () => {
  const started = performance.now();
  await sleep(20);
  assert.ok(performance.now() - started >= 15);
  const controller = new AbortController();
  const waiting = sleep(60_000, { signal: controller.signal });
  controller.abort(new LoopauthError("cancelled", "Stop now"));
  await assert.rejects(waiting, (e) => e instanceof LoopauthError && e.message === "Stop now");
  await assert.rejects(
    sleep(60_000, { signal: AbortSignal.abort() }),
    (e) => e instanceof LoopauthError && e.code === "cancelled",
  );
});

Deno.test("within gives the value, or undefined when time runs out first", async () => {
  assert.equal(await within(Promise.resolve(7), 1_000), 7);
  assert.equal(await within(new Promise(() => {}), 10), undefined);
  await assert.rejects(within(Promise.reject(new Error("boom")), 1_000), /boom/);
});

Deno.test("a cancelled timer does not keep the process alive; a pending one does", async () => {
  const timers = new URL("../../lib/core/timers.ts", import.meta.url).href;
  const run = async (code: string) => {
    const started = performance.now();
    const { code: exit } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", `import { after } from "${timers}"; ${code}`],
      stdout: "null",
      stderr: "inherit",
    }).output();
    assert.equal(exit, 0);
    return performance.now() - started;
  };
  assert.ok(await run("after(60_000, () => {})();") < 10_000, "exits at once");
  assert.ok(await run("after(300, () => {});") >= 300, "waits for the timer");
});
