/** lib/core/timers.ts: timers on AbortSignal.timeout instead of setTimeout. */
import assert from "node:assert/strict";
import { LoopauthError } from "../../lib/core/errors.ts";
import { after, sleep, within } from "../../lib/core/timers.ts";

Deno.test("after fires once; a cancelled one never fires", async () => {
  let fired = 0;
  let cancelledFired = false;
  after(5, () => fired++);
  after(5, () => cancelledFired = true)();
  // Ordered, not timed: a later timer fires after every earlier one would have.
  await new Promise((later) => after(10, () => later(undefined)));
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
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", `import { after } from "${timers}"; ${code}`],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    // Bounded: a child kept alive by the hour-long timer is killed and fails the test.
    const kill = after(30_000, () => child.kill("SIGKILL"));
    const output = await child.output();
    kill();
    assert.equal(output.code, 0, "ended by itself");
    return new TextDecoder().decode(output.stdout);
  };
  assert.equal(await run("after(3_600_000, () => {})();"), "", "a cancelled timer: exits at once");
  assert.equal(
    await run("after(300, () => console.log('fired'));"),
    "fired\n",
    "a pending timer: the process waits for it",
  );
});
