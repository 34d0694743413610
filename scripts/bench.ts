/**
 * Whole-process figures, side by side in one run against the built-in
 * provider with a scripted user (no browser):
 *
 * - a full login, spawn → token stored → exit, for loopauth and two Python
 *   peers: the seed-style flow on the standard library
 *   (scripts/peers/stdlib_flow.py) and google-auth-oauthlib's
 *   `InstalledAppFlow.run_local_server` (scripts/peers/google_flow.py);
 * - callback answered → process exit;
 * - peak RSS of each login (getrusage of the child, through Python).
 *
 * Each goal is printed with its figure and "met" or "not met": login ≤ 0.9×
 * the stdlib flow and ≤ 0.25× google-auth-oauthlib, callback → exit < 20 ms,
 * peak RSS < 80 MB. The login's floor, the stdlib peer's flow in plain Deno
 * (scripts/peers/deno_flow.ts), runs beside them: a ratio it misses alone is
 * out of reach on this machine (scripts/machine.ts).
 *
 * Runs are interleaved (A B C A B C …) so noise hits every contender alike.
 * A peer that is not installed is named and skipped; loopauth never is.
 * Usage: scripts/bench.ts [RUNS]
 */
import { fileURLToPath } from "node:url";
import { actAsUser, type DevProvider, startDevProvider } from "../lib/dev/provider.ts";
import { childEnv, loginArgs, MAIN, runFlags, secretEnv, tempConfig } from "../tests/helpers.ts";
import { median } from "./median.ts";
import { machineLine, verdict } from "./machine.ts";

const RUNS = Number(Deno.args[0] ?? 10);
const PLAIN_DENO = "the same flow in plain Deno";
const PYTHON = "/usr/bin/python3"; // Debian's, where python3-google-auth-oauthlib installs
const peer = (name: string) => fileURLToPath(new URL(`./peers/${name}`, import.meta.url));

interface Contender {
  name: string;
  provider: DevProvider;
  /** Why it cannot run, or undefined. */
  missing?: string;
  command(configHome: string): { cmd: string; args: string[]; env: Record<string, string> };
  stored(configHome: string): string;
  logins: number[];
  teardowns: number[];
  peakKiB: number[];
}

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

/** Peak RSS of a child process: run it under Python's getrusage(RUSAGE_CHILDREN). */
const RUSAGE = "import resource,subprocess,sys;subprocess.run(sys.argv[1:]);" +
  "print('MAXRSS=%d'%resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,file=sys.stderr)";

/**
 * One login: spawn, find the authorization URL on stdout or stderr, play the
 * user, wait for the exit. Returns wall times and the child's peak RSS when
 * measured.
 */
async function loginOnce(contender: Contender, measureMemory: boolean) {
  await using config = await tempConfig();
  const { cmd, args, env } = contender.command(config.home);
  const started = performance.now();
  const child = new Deno.Command(measureMemory ? PYTHON : cmd, {
    args: measureMemory ? ["-c", RUSAGE, cmd, ...args] : args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let found: (url: string) => void;
  const url = new Promise<string>((resolve) => found = resolve);
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const match = /https?:\/\/\S+\/login\/oauth\/authorize\?\S+/.exec(text);
      if (match) found(match[0]);
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  const exited = child.status;
  const first = await Promise.race([url, exited.then(() => undefined)]);
  if (!first) throw new Error(`${contender.name} exited before printing a URL:\n${text}`);
  const page = await actAsUser(first);
  const answered = performance.now();
  const status = await exited;
  const done = performance.now();
  await reading;
  if (!status.success || page.status !== 200) {
    throw new Error(
      `${contender.name} failed (exit ${status.code}, page ${page.status}):\n${text}`,
    );
  }
  await Deno.stat(contender.stored(config.home)); // the token was stored
  const peak = Number(/MAXRSS=(\d+)/.exec(text)?.[1] ?? 0);
  return { login: done - started, teardown: done - answered, peak };
}

const loopbackProvider = startDevProvider({ autoApprove: true });
// google-auth-oauthlib needs expires_in (it computes an expiry): GitHub-App-style tokens.
const slashProvider = startDevProvider({
  autoApprove: true,
  registeredCallback: "http://127.0.0.1/",
  expiringTokens: { accessTtl: 28_800, refreshTtl: 15_897_600 },
});
const pythonEnv = {
  PATH: "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? "/tmp",
  PYTHONUNBUFFERED: "1", // the URL must reach the pipe before the flow waits
};
const pythonPeer = (name: string, script: string, provider: DevProvider): Contender => ({
  name,
  provider,
  command: (home) => ({
    cmd: PYTHON,
    args: [
      peer(script),
      provider.origin,
      provider.clientId,
      provider.clientSecret,
      `${home}/token.json`,
    ],
    env: pythonEnv,
  }),
  stored: (home) => `${home}/token.json`,
  logins: [],
  teardowns: [],
  peakKiB: [],
});
const contenders: Contender[] = [
  {
    name: "loopauth",
    provider: loopbackProvider,
    command: (home) => ({
      cmd: Deno.execPath(),
      args: ["run", ...runFlags(`${home}/loopauth`), MAIN, ...loginArgs(loopbackProvider)],
      // A 0600 file, like the peers (no keyring probe in the figure); the app's secret in the
      // environment, as a user gives it (loginArgs has no --client-secret).
      env: childEnv(home, secretEnv(loopbackProvider, { LOOPAUTH_STORAGE: "file" })),
    }),
    stored: (home) => `${home}/loopauth/tokens.json`,
    logins: [],
    teardowns: [],
    peakKiB: [],
  },
  {
    // The floor: the stdlib peer's flow in plain Deno, no line of loopauth (scripts/machine.ts).
    name: PLAIN_DENO,
    provider: loopbackProvider,
    command: (home) => ({
      cmd: Deno.execPath(),
      args: [
        "run",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        `--allow-write=${home}/token.json`,
        peer("deno_flow.ts"),
        loopbackProvider.origin,
        loopbackProvider.clientId,
        loopbackProvider.clientSecret,
        `${home}/token.json`,
      ],
      env: childEnv(home),
    }),
    stored: (home) => `${home}/token.json`,
    logins: [],
    teardowns: [],
    peakKiB: [],
  },
  pythonPeer("python stdlib flow", "stdlib_flow.py", loopbackProvider),
  pythonPeer("google-auth-oauthlib", "google_flow.py", slashProvider),
];
const hasPython = await works(PYTHON, ["-c", "pass"]);
const [stdlibPeer, googlePeer] = contenders.slice(-2);
if (!hasPython) {
  stdlibPeer.missing = googlePeer.missing = `${PYTHON} not found (apt-get install python3)`;
} else if (!(await works(PYTHON, ["-c", "import google_auth_oauthlib"]))) {
  googlePeer.missing =
    "not installed (deno task setup-bench, or apt-get install python3-google-auth-oauthlib)";
}
const active = contenders.filter((c) => !c.missing);
console.log(machineLine());
for (const c of contenders) if (c.missing) console.log(`skipped peer ${c.name}: ${c.missing}`);

try {
  for (const c of active) await loginOnce(c, false); // warm caches
  for (let i = 0; i < RUNS; i++) {
    for (const c of active) {
      const { login, teardown } = await loginOnce(c, false);
      c.logins.push(login);
      c.teardowns.push(teardown);
    }
  }
  if (hasPython) {
    for (let i = 0; i < 3; i++) {
      for (const c of active) c.peakKiB.push((await loginOnce(c, true)).peak);
    }
  }
} finally {
  await loopbackProvider.close();
  await slashProvider.close();
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const table = [
  ["figure", ...active.map((c) => c.name)],
  [`full login, median of ${RUNS}`, ...active.map((c) => ms(median(c.logins)))],
  ["callback answered → exit", ...active.map((c) => ms(median(c.teardowns)))],
  [
    "peak RSS of the login",
    ...active.map((c) =>
      c.peakKiB.length ? `${(Math.max(...c.peakKiB) / 1024).toFixed(1)} MB` : "n/a"
    ),
  ],
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));

const [ours] = active;
const loginMs = median(ours.logins);
console.log(`login: loopauth median ${ms(loginMs)} over ${RUNS} runs`);
const plainLogins = active.find((c) => c.name === PLAIN_DENO)!.logins;
const plainMs = median(plainLogins);
console.log(
  `login over its floor: loopauth / ${PLAIN_DENO} = ${(loginMs / plainMs).toFixed(2)}×`,
);
for (const [name, goal] of [["python stdlib flow", 0.9], ["google-auth-oauthlib", 0.25]] as const) {
  const other = active.find((c) => c.name === name);
  if (!other) continue;
  const ratio = loginMs / median(other.logins);
  const floor = { name: PLAIN_DENO, figure: Math.min(...plainLogins) / median(other.logins) };
  console.log(
    `login ratio: loopauth / ${name} = ${ratio.toFixed(2)}× (goal ≤ ${goal}×: ${
      verdict(ratio, goal, floor, (v) => `${v.toFixed(2)}×`)
    })`,
  );
}
const teardown = median(ours.teardowns);
console.log(
  `teardown: callback answered → exit median ${ms(teardown)} (goal < 20 ms: ${
    teardown < 20 ? "met" : "not met"
  })`,
);
if (ours.peakKiB.length) {
  const peak = Math.max(...ours.peakKiB) / 1024;
  console.log(
    `memory: loopauth login peak RSS ${peak.toFixed(1)} MB (goal < 80 MB: ${
      peak < 80 ? "met" : "not met"
    })`,
  );
}
