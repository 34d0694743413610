/**
 * The loopauth agent in tests: start one through the CLI (disposing stops
 * it), tell when a process has ended, run a bash command.
 * @module
 */
import assert from "node:assert/strict";
import { type CliOptions, runCli } from "./cli.ts";
import { cleanup, waitUntil } from "./env.ts";

/** An agent a test started; disposing stops it (kill -9 if it does not answer). */
export interface TestAgent extends AsyncDisposable {
  socket: string;
  pid: number;
}

/** Runs `loopauth agent start --json` (plus `extra`) and checks what it printed. */
export async function startAgent(options: CliOptions, ...extra: string[]): Promise<TestAgent> {
  // A run cut short (Ctrl-C) skips the disposers: the agent then ends by itself soon.
  const ttl = extra.includes("--ttl") ? [] : ["--ttl", "10m"];
  const out = await runCli(["agent", "start", "--json", ...ttl, ...extra], options);
  assert.equal(out.code, 0, out.stderr);
  const { socket, pid } = JSON.parse(out.stdout);
  assert.match(out.stderr, /^Agent started at .+ \(pid \d+\) until \d{4}-.+Z$/m);
  return {
    socket,
    pid,
    [Symbol.asyncDispose]: cleanup(`the agent ${pid}`, async () => {
      if (!await gone(pid)) {
        const stop = await runCli(["agent", "stop", "--socket", socket], options);
        if (stop.code !== 0) await shell(`kill -9 ${pid}`);
      }
      await waitUntil(() => gone(pid), { what: `agent ${pid} to end` });
    }),
  };
}

/** Runs a bash command; its output. */
export async function shell(script: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command("bash", { args: ["-c", script], stdout: "piped", stderr: "piped" })
    .output();
}

/** Whether a process has ended (a zombie nobody reaped counts as ended). */
export async function gone(pid: number): Promise<boolean> {
  const out = await shell(`ps -o stat= -p ${pid}`);
  const stat = new TextDecoder().decode(out.stdout).trim();
  return stat === "" || stat.startsWith("Z");
}
