/**
 * Whole-process figures: a full `loopauth login` (spawn → token stored →
 * exit) against the built-in provider with a scripted user, and the time
 * from the callback's answer to the process exit. Prints a table and one
 * summary line per figure.
 */
import { actAsUser, startDevProvider } from "../lib/dev_provider.ts";
import { Cli, loginArgs, tempConfig } from "../tests/helpers.ts";

const RUNS = Number(Deno.args[0] ?? 10);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const provider = startDevProvider({ autoApprove: true });
const logins: number[] = [];
const teardowns: number[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    await using config = await tempConfig();
    const started = performance.now();
    const cli = new Cli(loginArgs(provider), { configHome: config.home });
    const page = await actAsUser(await cli.authorizationUrl());
    const answered = performance.now();
    const { code } = await cli.output();
    const exited = performance.now();
    if (code !== 0 || page.status !== 200) {
      throw new Error(`login ${i} failed with exit code ${code}`);
    }
    logins.push(exited - started);
    teardowns.push(exited - answered);
  }
} finally {
  await provider.close();
}

const rows = [
  ["figure", "median ms", "min ms", "max ms", "runs"],
  ["full login (spawn → stored → exit)", ...stats(logins)],
  ["callback answered → process exit", ...stats(teardowns)],
];
function stats(values: number[]): string[] {
  return [median(values), Math.min(...values), Math.max(...values)].map((v) => v.toFixed(1))
    .concat(String(values.length));
}
for (const row of rows) console.log(row.map((c, i) => i ? c.padStart(10) : c.padEnd(38)).join(""));
console.log(`login: median ${median(logins).toFixed(1)} ms over ${RUNS} runs`);
console.log(
  `teardown: callback answered → exit median ${median(teardowns).toFixed(1)} ms (goal < 20 ms: ${
    median(teardowns) < 20 ? "met" : "not met"
  })`,
);
