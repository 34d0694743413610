/**
 * Scale of `loopauth status` (online checks): 50 accounts over 10 hosts
 * against 1 account, each host a built-in provider on 127.0.0.1, runs
 * interleaved in one go. Prints both medians and the ratio (goal: at most
 * 2×: the checks run concurrently, a few at a time).
 *
 * Usage: deno run … scripts/status_bench.ts [RUNS]
 */
import { login } from "../lib/ops/login.ts";
import { actAsUser, type DevProvider, startDevProvider } from "../lib/dev/provider.ts";
import { childEnv, MAIN, runFlags, tempConfig } from "../tests/helpers.ts";
import { median } from "./median.ts";

const RUNS = Number(Deno.args[0] ?? 15);
const HOSTS = 10;
const ACCOUNTS_PER_HOST = 5;

/** Logs `name` in to `provider` through the library and stores the token in `dir`. */
async function storeAccount(provider: DevProvider, name: string, dir: string) {
  provider.user = { ...provider.user, login: name };
  await login({
    hostname: provider.origin,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    openBrowser: (url) => actAsUser(url),
    configDir: dir,
    storage: "file",
  });
}

async function time(home: string, expected: number): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...runFlags(`${home}/loopauth`), MAIN, "status", "--json"],
    env: childEnv(home),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - started;
  const text = new TextDecoder().decode(output.stdout);
  const states = output.success
    ? JSON.parse(text).hosts.flatMap((h: { accounts: { state: string }[] }) =>
      h.accounts.map((a) => a.state)
    )
    : [];
  if (states.length !== expected || states.some((s: string) => s !== "valid")) {
    throw new Error(
      `status failed (exit ${output.code}): ${text}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return elapsed;
}

const providers = Array.from({ length: HOSTS }, () => startDevProvider({ autoApprove: true }));
await using one = await tempConfig();
await using many = await tempConfig();
try {
  await storeAccount(providers[0], "user1", one.dir);
  for (const provider of providers) {
    for (let i = 1; i <= ACCOUNTS_PER_HOST; i++) await storeAccount(provider, `user${i}`, many.dir);
  }
  const total = HOSTS * ACCOUNTS_PER_HOST;
  const single: number[] = [];
  const scaled: number[] = [];
  for (let i = 0; i < 2; i++) await time(one.home, 1), await time(many.home, total); // warm caches
  for (let i = 0; i < RUNS; i++) {
    single.push(await time(one.home, 1));
    scaled.push(await time(many.home, total));
  }
  const ratio = median(scaled) / median(single);
  console.log(`status, 1 account: median ${median(single).toFixed(1)} ms over ${RUNS} runs`);
  console.log(
    `status, ${total} accounts over ${HOSTS} hosts: median ${
      median(scaled).toFixed(1)
    } ms over ${RUNS} runs`,
  );
  console.log(
    `status scale: ${total} accounts / 1 account = ${ratio.toFixed(2)}× (goal ≤ 2×: ${
      ratio <= 2 ? "met" : "not met"
    })`,
  );
} finally {
  await Promise.all(providers.map((p) => p.close()));
}
